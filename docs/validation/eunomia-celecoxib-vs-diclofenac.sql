-- Celecoxib versus diclofenac and GI haemorrhage on the Eunomia GiBleed sample, written by hand from the issue's
-- definition, independent of the portal's compiler (docs/validation.md). Reads the OMOP tables of one source schema:
-- set search_path first (psql: SET search_path = cdm_eunomia;). One row per person of the study population:
--   person_id, treatment (1 celecoxib, 0 diclofenac), index_date, time (days at risk, index day = day 1), event (0/1)
-- Definitions:
--   index     the start of the person's first drug era of either ingredient (celecoxib 1118084, diclofenac 1124300);
--             a person whose first eras of both start on the same day cannot be assigned and is left out
--   observed  the index date lies inside an observation period (start <= index <= end); no other restriction
--             (no washout, no prior-observation, age or prior-outcome criterion)
--   outcome   the first condition_occurrence of GI haemorrhage (192671 or a descendant) strictly after the index date
--   follow-up intention to treat from the index date to the first of the outcome, death and the end of that
--             observation period; time counts the index day as day 1 (CohortMethod's survival time convention)
WITH eras AS (
    SELECT person_id, drug_concept_id, min(drug_era_start_date) AS first_start
    FROM drug_era
    WHERE drug_concept_id IN (1118084, 1124300)
    GROUP BY person_id, drug_concept_id
),
first_era AS (
    SELECT person_id,
           min(first_start) AS index_date,
           bool_or(drug_concept_id = 1118084 AND first_start = (SELECT min(e2.first_start) FROM eras e2 WHERE e2.person_id = eras.person_id)) AS on_celecoxib,
           bool_or(drug_concept_id = 1124300 AND first_start = (SELECT min(e2.first_start) FROM eras e2 WHERE e2.person_id = eras.person_id)) AS on_diclofenac
    FROM eras
    GROUP BY person_id
),
cohort AS (
    SELECT f.person_id, f.on_celecoxib, f.index_date, op.observation_period_end_date AS observed_until
    FROM first_era f
    JOIN observation_period op
      ON op.person_id = f.person_id
     AND op.observation_period_start_date <= f.index_date
     AND op.observation_period_end_date >= f.index_date
    WHERE f.on_celecoxib <> f.on_diclofenac
),
gi_bleed AS (
    SELECT descendant_concept_id AS concept_id FROM concept_ancestor WHERE ancestor_concept_id = 192671
    UNION
    SELECT 192671
),
ends AS (
    SELECT k.person_id, k.on_celecoxib, k.index_date,
           least(k.observed_until, (SELECT min(d.death_date) FROM death d WHERE d.person_id = k.person_id)) AS last_day,
           (SELECT min(co.condition_start_date) FROM condition_occurrence co
            WHERE co.person_id = k.person_id
              AND co.condition_concept_id IN (SELECT concept_id FROM gi_bleed)
              AND co.condition_start_date > k.index_date) AS outcome_date
    FROM cohort k
)
SELECT person_id,
       CASE WHEN on_celecoxib THEN 1 ELSE 0 END AS treatment,
       index_date,
       CASE WHEN outcome_date <= last_day THEN outcome_date ELSE last_day END - index_date + 1 AS time,
       CASE WHEN outcome_date <= last_day THEN 1 ELSE 0 END AS event
FROM ends
ORDER BY person_id
