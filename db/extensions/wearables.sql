-- Wearable extension tables of one CDM schema ({{schema}} is replaced by cdm_<source>).
-- The primary keys start with person_id: one row per person, day (or hour) and device, and the key
-- already serves the (person_id, date) access path and Citus distribution on person_id.

CREATE TABLE IF NOT EXISTS {{schema}}.wearable_daily (
    person_id bigint NOT NULL,
    measurement_date date NOT NULL,
    device text NOT NULL,
    steps integer NULL,
    resting_hr numeric NULL,
    hrv_rmssd numeric NULL,
    sleep_minutes integer NULL,
    wear_minutes integer NULL,
    CONSTRAINT xpk_wearable_daily PRIMARY KEY (person_id, measurement_date, device)
);

CREATE TABLE IF NOT EXISTS {{schema}}.wearable_hourly (
    person_id bigint NOT NULL,
    hour timestamp NOT NULL,
    device text NOT NULL,
    mean_hr numeric NULL,
    steps integer NULL,
    CONSTRAINT xpk_wearable_hourly PRIMARY KEY (person_id, hour, device)
);
