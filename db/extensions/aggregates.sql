-- Subgroup pre-aggregations of one source (decision 0741; docs/criteria.md "Pre-aggregations"). Created empty with the
-- source's schema (CdmSchema; the migration adds them to older schemas), filled by aggregates_rebuild.sql, which the
-- loaders run after a load. The subgroup compiler reads them only while gov.warehouse_aggregates says they are fresh
-- and the CDM tables otherwise; any write to a summarised table marks the source stale (statement triggers installed
-- by the rebuild), so a count never reads a summary older than its data.
--
-- agg_event: per domain, concept, unit and person the first and last date, the number of events and the smallest and
-- largest value. Domains: 1 condition, 2 drug, 3 procedure, 4 observation, 5 measurement, 6 visit. It answers, without
-- touching the event tables: the first (last) event of a concept set, "any event" with only an upper (lower) date
-- bound (first date <= bound; last date >= bound), event counts without window, and one-sided value ranges without
-- window (min value <= x; max value >= x).
--
-- agg_event_value: the rows of agg_event with values, the smallest and largest value as double precision (the type the
-- range parameters compare them in), indexed by concept and each bound: a one-sided value range reads only the persons
-- in range (decision 0747).
--
-- agg_wearable_span: per person the first and last day worn (wear minutes > 0); a wearable window is asked only of
-- the persons whose span overlaps it.
--
-- agg_wearable_month: per person and calendar month, per metric the number of worn days with a value and the sum of
-- the days' values (devices of the same day averaged, as the per-person rule does); a window of whole months reads a
-- dozen rows per person instead of a year of days. Sums are exact (numeric), so sum / days is the per-person mean.
--
-- agg_wearable_year: the same sums per person and calendar year (the months added up, exact). A window of one whole
-- year reads one row per person instead of twelve, with no grouping by person (decision 0746).
--
-- agg_enrollment_span: per person the enrollment spans, payer_plan_period merged where periods overlap or touch, each
-- with the end of the person's previous span (NULL for the first). Enrolled on every day of a calendar window with gaps of
-- at most g days <=> among the spans overlapping the window, the first starts at most g days after the window's first
-- day, the last ends at most g days before its last day, and each later one starts at most g days after the previous
-- one's end: one pass over the spans, read as a person set.
--
-- agg_enrollment_year_words: per calendar year, for the persons with a span overlapping it, the longest run of
-- uncovered days inside the year (max_gap; 0 when covered throughout), as words of 64 persons per (year, max_gap);
-- enrolled on every day of year Y with gaps of at most g days <=> a bit in the words of (Y, 0..g), the same rule as
-- the spans give (decision 0746). A row with max_gap -1 marks each year it holds: the years in which some span starts.
--
-- agg_event_words: per domain and concept the persons with any event, as words of 64 person ids (word = person_id >> 6,
-- bit person_id & 63), the form of the consent bitmap: "has any event of the set" is the OR of the set's words. Domain
-- 0, concept 0 holds every person of the source: a count without index ANDs the criteria's words into it (decision 0745).
CREATE TABLE IF NOT EXISTS {{schema}}.agg_event (
    domain smallint NOT NULL,
    concept_id integer NOT NULL,
    unit_concept_id integer NULL,
    person_id bigint NOT NULL,
    first_date date NOT NULL,
    last_date date NOT NULL,
    events bigint NOT NULL,
    min_value numeric NULL,
    max_value numeric NULL
);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_event_words (
    domain smallint NOT NULL,
    concept_id integer NOT NULL,
    word bigint NOT NULL,
    bits bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_wearable_span (
    person_id bigint NOT NULL,
    first_date date NOT NULL,
    last_date date NOT NULL
);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_wearable_month (
    person_id bigint NOT NULL,
    month date NOT NULL,
    steps_days integer NOT NULL,
    steps_sum numeric NULL,
    resting_hr_days integer NOT NULL,
    resting_hr_sum numeric NULL,
    hrv_rmssd_days integer NOT NULL,
    hrv_rmssd_sum numeric NULL,
    sleep_minutes_days integer NOT NULL,
    sleep_minutes_sum numeric NULL
);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_enrollment_span (
    person_id bigint NOT NULL,
    span_start date NOT NULL,
    span_end date NOT NULL,
    previous_end date NULL
);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_enrollment_year_words (
    year integer NOT NULL,
    max_gap integer NOT NULL,
    word bigint NOT NULL,
    bits bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_wearable_year (
    person_id bigint NOT NULL,
    year integer NOT NULL,
    steps_days integer NOT NULL,
    steps_sum numeric NULL,
    resting_hr_days integer NOT NULL,
    resting_hr_sum numeric NULL,
    hrv_rmssd_days integer NOT NULL,
    hrv_rmssd_sum numeric NULL,
    sleep_minutes_days integer NOT NULL,
    sleep_minutes_sum numeric NULL
);

CREATE TABLE IF NOT EXISTS {{schema}}.agg_event_value (
    domain smallint NOT NULL,
    concept_id integer NOT NULL,
    unit_concept_id integer NULL,
    person_id bigint NOT NULL,
    min_value double precision NOT NULL,
    max_value double precision NOT NULL
);
