-- Rebuilds the subgroup pre-aggregations of one source (db/extensions/aggregates.sql describes them), in one
-- transaction; SubgroupAggregates runs it after a load, then VACUUM ANALYZE (index-only scans need the visibility map).
-- Writers of the summarised tables wait until the summary and its freshness are committed together.
LOCK TABLE {{schema}}.person, {{schema}}.condition_occurrence, {{schema}}.drug_exposure, {{schema}}.procedure_occurrence,
    {{schema}}.observation, {{schema}}.measurement, {{schema}}.visit_occurrence, {{schema}}.wearable_daily, {{schema}}.payer_plan_period IN SHARE MODE;

DROP INDEX IF EXISTS {{schema}}.ix_agg_event_concept_person;
DROP INDEX IF EXISTS {{schema}}.ix_agg_event_words_concept;
DROP INDEX IF EXISTS {{schema}}.ix_agg_wearable_span_person;
DROP INDEX IF EXISTS {{schema}}.ix_agg_enrollment_span_person;
DROP INDEX IF EXISTS {{schema}}.ix_agg_wearable_month_month;
DROP INDEX IF EXISTS {{schema}}.ix_agg_enrollment_year_words;
DROP INDEX IF EXISTS {{schema}}.ix_agg_wearable_year_year;
DROP INDEX IF EXISTS {{schema}}.ix_agg_event_value_min;
DROP INDEX IF EXISTS {{schema}}.ix_agg_event_value_max;
TRUNCATE {{schema}}.agg_event, {{schema}}.agg_event_words, {{schema}}.agg_wearable_span, {{schema}}.agg_wearable_month, {{schema}}.agg_enrollment_span,
    {{schema}}.agg_enrollment_year_words, {{schema}}.agg_wearable_year, {{schema}}.agg_event_value;

INSERT INTO {{schema}}.agg_event
SELECT 1, condition_concept_id, NULL, person_id, min(condition_start_date), max(condition_start_date), count(*), NULL, NULL
FROM {{schema}}.condition_occurrence GROUP BY condition_concept_id, person_id;
INSERT INTO {{schema}}.agg_event
SELECT 2, drug_concept_id, NULL, person_id, min(drug_exposure_start_date), max(drug_exposure_start_date), count(*), NULL, NULL
FROM {{schema}}.drug_exposure GROUP BY drug_concept_id, person_id;
INSERT INTO {{schema}}.agg_event
SELECT 3, procedure_concept_id, NULL, person_id, min(procedure_date), max(procedure_date), count(*), NULL, NULL
FROM {{schema}}.procedure_occurrence GROUP BY procedure_concept_id, person_id;
INSERT INTO {{schema}}.agg_event
SELECT 4, observation_concept_id, unit_concept_id, person_id, min(observation_date), max(observation_date), count(*),
       min(value_as_number), max(value_as_number)
FROM {{schema}}.observation GROUP BY observation_concept_id, unit_concept_id, person_id;
INSERT INTO {{schema}}.agg_event
SELECT 5, measurement_concept_id, unit_concept_id, person_id, min(measurement_date), max(measurement_date), count(*),
       min(value_as_number), max(value_as_number)
FROM {{schema}}.measurement GROUP BY measurement_concept_id, unit_concept_id, person_id;
INSERT INTO {{schema}}.agg_event
SELECT 6, visit_concept_id, NULL, person_id, min(visit_start_date), max(visit_start_date), count(*), NULL, NULL
FROM {{schema}}.visit_occurrence GROUP BY visit_concept_id, person_id;

-- A concept set's persons in person order, everything a criterion reads in the index (index-only scans).
CREATE INDEX ix_agg_event_concept_person ON {{schema}}.agg_event (domain, concept_id, person_id)
    INCLUDE (unit_concept_id, first_date, last_date, events, min_value, max_value);

-- The rows with values, by concept and each bound (decision 0747).
INSERT INTO {{schema}}.agg_event_value
SELECT domain, concept_id, unit_concept_id, person_id, CAST(min_value AS double precision), CAST(max_value AS double precision)
FROM {{schema}}.agg_event WHERE min_value IS NOT NULL;

CREATE INDEX ix_agg_event_value_min ON {{schema}}.agg_event_value (domain, concept_id, min_value) INCLUDE (unit_concept_id, person_id);
CREATE INDEX ix_agg_event_value_max ON {{schema}}.agg_event_value (domain, concept_id, max_value) INCLUDE (unit_concept_id, person_id);

INSERT INTO {{schema}}.agg_event_words
SELECT domain, concept_id, person_id >> 6, bit_or(1::bigint << (person_id & 63)::integer)
FROM {{schema}}.agg_event GROUP BY domain, concept_id, person_id >> 6;

-- Domain 0, concept 0: every person of the source, the universe a count from words starts from (decision 0745).
INSERT INTO {{schema}}.agg_event_words
SELECT 0, 0, person_id >> 6, bit_or(1::bigint << (person_id & 63)::integer)
FROM {{schema}}.person GROUP BY person_id >> 6;

CREATE INDEX ix_agg_event_words_concept ON {{schema}}.agg_event_words (domain, concept_id) INCLUDE (word, bits);

INSERT INTO {{schema}}.agg_wearable_span
SELECT person_id, min(measurement_date), max(measurement_date)
FROM {{schema}}.wearable_daily WHERE wear_minutes > 0 GROUP BY person_id;

CREATE INDEX ix_agg_wearable_span_person ON {{schema}}.agg_wearable_span (person_id) INCLUDE (first_date, last_date);

INSERT INTO {{schema}}.agg_wearable_month
SELECT person_id, CAST(date_trunc('month', measurement_date) AS date),
       count(steps), sum(steps), count(resting_hr), sum(resting_hr), count(hrv_rmssd), sum(hrv_rmssd), count(sleep_minutes), sum(sleep_minutes)
FROM (SELECT person_id, measurement_date, avg(steps) AS steps, avg(resting_hr) AS resting_hr, avg(hrv_rmssd) AS hrv_rmssd,
             avg(sleep_minutes) AS sleep_minutes
      FROM {{schema}}.wearable_daily WHERE wear_minutes > 0 GROUP BY person_id, measurement_date) d
GROUP BY person_id, CAST(date_trunc('month', measurement_date) AS date);

CREATE INDEX ix_agg_wearable_month_month ON {{schema}}.agg_wearable_month (month) INCLUDE (person_id, steps_days, steps_sum,
    resting_hr_days, resting_hr_sum, hrv_rmssd_days, hrv_rmssd_sum, sleep_minutes_days, sleep_minutes_sum);

-- The months added up per calendar year: a one-year window reads one row per person (decision 0746).
INSERT INTO {{schema}}.agg_wearable_year
SELECT person_id, CAST(extract(year FROM month) AS integer), sum(steps_days), sum(steps_sum), sum(resting_hr_days), sum(resting_hr_sum),
       sum(hrv_rmssd_days), sum(hrv_rmssd_sum), sum(sleep_minutes_days), sum(sleep_minutes_sum)
FROM {{schema}}.agg_wearable_month
GROUP BY person_id, CAST(extract(year FROM month) AS integer);

CREATE INDEX ix_agg_wearable_year_year ON {{schema}}.agg_wearable_year (year) INCLUDE (person_id, steps_days, steps_sum,
    resting_hr_days, resting_hr_sum, hrv_rmssd_days, hrv_rmssd_sum, sleep_minutes_days, sleep_minutes_sum);

-- Periods in start order start a new span when they begin after every earlier period's end + 1 day.
INSERT INTO {{schema}}.agg_enrollment_span
SELECT person_id, span_start, span_end, lag(span_end) OVER (PARTITION BY person_id ORDER BY span_start)
FROM (SELECT person_id, min(s) AS span_start, max(e) AS span_end
      FROM (SELECT person_id, s, e, count(*) FILTER (WHERE s > reach + 1) OVER (PARTITION BY person_id ORDER BY s, e) AS span
            FROM (SELECT person_id, payer_plan_period_start_date AS s, payer_plan_period_end_date AS e,
                         max(payer_plan_period_end_date) OVER (PARTITION BY person_id ORDER BY payer_plan_period_start_date, payer_plan_period_end_date
                                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
                  FROM {{schema}}.payer_plan_period
                  WHERE payer_plan_period_end_date >= payer_plan_period_start_date) p) q
      GROUP BY person_id, span) r
ORDER BY person_id, span_start;

-- A person's spans in order, read by index-only scans (grouped per person without a sort).
CREATE INDEX ix_agg_enrollment_span_person ON {{schema}}.agg_enrollment_span (person_id, span_start) INCLUDE (span_end, previous_end);

-- Per calendar year (those in which some span starts) and person with a span overlapping it: the longest uncovered run
-- inside the year, the smallest gap g for which the span rule of the compiler holds (decision 0746); folded into words.
INSERT INTO {{schema}}.agg_enrollment_year_words
SELECT x.y, x.max_gap, x.person_id >> 6, bit_or(1::bigint << (x.person_id & 63)::integer)
FROM (SELECT g.y, a.person_id,
             greatest(min(a.span_start) - make_date(g.y, 1, 1), make_date(g.y, 12, 31) - max(a.span_end),
                      coalesce(max(a.span_start - a.previous_end - 1) FILTER (WHERE a.previous_end >= make_date(g.y, 1, 1)), 0), 0) AS max_gap
      FROM {{schema}}.agg_enrollment_span a
      CROSS JOIN (SELECT CAST(min(extract(year FROM span_start)) AS integer) AS lo, CAST(max(extract(year FROM span_start)) AS integer) AS hi
                  FROM {{schema}}.agg_enrollment_span) r
      CROSS JOIN LATERAL generate_series(greatest(CAST(extract(year FROM a.span_start) AS integer), r.lo),
                                         least(CAST(extract(year FROM a.span_end) AS integer), r.hi)) g(y)
      GROUP BY g.y, a.person_id) x
GROUP BY x.y, x.max_gap, x.person_id >> 6;

INSERT INTO {{schema}}.agg_enrollment_year_words
SELECT y, -1, -1, 0
FROM (SELECT CAST(min(extract(year FROM span_start)) AS integer) AS lo, CAST(max(extract(year FROM span_start)) AS integer) AS hi
      FROM {{schema}}.agg_enrollment_span) r
CROSS JOIN LATERAL generate_series(r.lo, r.hi) y
WHERE r.lo IS NOT NULL;

CREATE INDEX ix_agg_enrollment_year_words ON {{schema}}.agg_enrollment_year_words (year, max_gap) INCLUDE (word, bits);

-- Writes to the summarised tables mark the source stale until the next rebuild.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['person', 'condition_occurrence', 'drug_exposure', 'procedure_occurrence', 'observation', 'measurement', 'visit_occurrence', 'wearable_daily', 'payer_plan_period'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS agg_stale ON {{schema}}.%I', t);
        EXECUTE format('CREATE TRIGGER agg_stale AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {{schema}}.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION gov.mark_aggregates_stale()', t);
    END LOOP;
END $$;

INSERT INTO gov.warehouse_aggregates (schema_name, fresh, built_at) VALUES ('{{schema}}', true, clock_timestamp())
ON CONFLICT (schema_name) DO UPDATE SET fresh = true, built_at = excluded.built_at;
