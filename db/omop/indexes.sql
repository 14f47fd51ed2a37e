-- Secondary indexes of one OMOP CDM 5.4 schema ({{schema}} is replaced by cdm_<source>).
-- Built after bulk loads (CdmSchema.CreateIndexesAsync): loading into unindexed tables is much faster.
-- Every person-level event table gets the two access paths the cohort SQL compiler emits:
--   (concept_id, person_id, start_date)  "who has concept X, and when"
--   (person_id, start_date)              "what happened to this person in a window"

CREATE INDEX IF NOT EXISTS ix_observation_period_person_start ON {{schema}}.observation_period (person_id, observation_period_start_date);

CREATE INDEX IF NOT EXISTS ix_visit_occurrence_concept_person_start ON {{schema}}.visit_occurrence (visit_concept_id, person_id, visit_start_date);
CREATE INDEX IF NOT EXISTS ix_visit_occurrence_person_start ON {{schema}}.visit_occurrence (person_id, visit_start_date);

CREATE INDEX IF NOT EXISTS ix_visit_detail_concept_person_start ON {{schema}}.visit_detail (visit_detail_concept_id, person_id, visit_detail_start_date);
CREATE INDEX IF NOT EXISTS ix_visit_detail_person_start ON {{schema}}.visit_detail (person_id, visit_detail_start_date);

CREATE INDEX IF NOT EXISTS ix_condition_occurrence_concept_person_start ON {{schema}}.condition_occurrence (condition_concept_id, person_id, condition_start_date);
CREATE INDEX IF NOT EXISTS ix_condition_occurrence_person_start ON {{schema}}.condition_occurrence (person_id, condition_start_date);

CREATE INDEX IF NOT EXISTS ix_drug_exposure_concept_person_start ON {{schema}}.drug_exposure (drug_concept_id, person_id, drug_exposure_start_date);
CREATE INDEX IF NOT EXISTS ix_drug_exposure_person_start ON {{schema}}.drug_exposure (person_id, drug_exposure_start_date);

CREATE INDEX IF NOT EXISTS ix_procedure_occurrence_concept_person_date ON {{schema}}.procedure_occurrence (procedure_concept_id, person_id, procedure_date);
CREATE INDEX IF NOT EXISTS ix_procedure_occurrence_person_date ON {{schema}}.procedure_occurrence (person_id, procedure_date);

CREATE INDEX IF NOT EXISTS ix_device_exposure_concept_person_start ON {{schema}}.device_exposure (device_concept_id, person_id, device_exposure_start_date);
CREATE INDEX IF NOT EXISTS ix_device_exposure_person_start ON {{schema}}.device_exposure (person_id, device_exposure_start_date);

CREATE INDEX IF NOT EXISTS ix_measurement_concept_person_date ON {{schema}}.measurement (measurement_concept_id, person_id, measurement_date);
CREATE INDEX IF NOT EXISTS ix_measurement_person_date ON {{schema}}.measurement (person_id, measurement_date);

CREATE INDEX IF NOT EXISTS ix_observation_concept_person_date ON {{schema}}.observation (observation_concept_id, person_id, observation_date);
CREATE INDEX IF NOT EXISTS ix_observation_person_date ON {{schema}}.observation (person_id, observation_date);

CREATE INDEX IF NOT EXISTS ix_death_cause_person_date ON {{schema}}.death (cause_concept_id, person_id, death_date);
CREATE INDEX IF NOT EXISTS ix_death_person_date ON {{schema}}.death (person_id, death_date);

CREATE INDEX IF NOT EXISTS ix_note_class_person_date ON {{schema}}.note (note_class_concept_id, person_id, note_date);
CREATE INDEX IF NOT EXISTS ix_note_person_date ON {{schema}}.note (person_id, note_date);
CREATE INDEX IF NOT EXISTS ix_note_nlp_note ON {{schema}}.note_nlp (note_id);

CREATE INDEX IF NOT EXISTS ix_specimen_concept_person_date ON {{schema}}.specimen (specimen_concept_id, person_id, specimen_date);
CREATE INDEX IF NOT EXISTS ix_specimen_person_date ON {{schema}}.specimen (person_id, specimen_date);

CREATE INDEX IF NOT EXISTS ix_payer_plan_period_person_start ON {{schema}}.payer_plan_period (person_id, payer_plan_period_start_date);
CREATE INDEX IF NOT EXISTS ix_cost_event_domain ON {{schema}}.cost (cost_event_id, cost_domain_id);

CREATE INDEX IF NOT EXISTS ix_drug_era_concept_person_start ON {{schema}}.drug_era (drug_concept_id, person_id, drug_era_start_date);
CREATE INDEX IF NOT EXISTS ix_drug_era_person_start ON {{schema}}.drug_era (person_id, drug_era_start_date);

CREATE INDEX IF NOT EXISTS ix_dose_era_concept_person_start ON {{schema}}.dose_era (drug_concept_id, person_id, dose_era_start_date);
CREATE INDEX IF NOT EXISTS ix_dose_era_person_start ON {{schema}}.dose_era (person_id, dose_era_start_date);

CREATE INDEX IF NOT EXISTS ix_condition_era_concept_person_start ON {{schema}}.condition_era (condition_concept_id, person_id, condition_era_start_date);
CREATE INDEX IF NOT EXISTS ix_condition_era_person_start ON {{schema}}.condition_era (person_id, condition_era_start_date);

CREATE INDEX IF NOT EXISTS ix_episode_concept_person_start ON {{schema}}.episode (episode_concept_id, person_id, episode_start_date);
CREATE INDEX IF NOT EXISTS ix_episode_person_start ON {{schema}}.episode (person_id, episode_start_date);
CREATE INDEX IF NOT EXISTS ix_episode_event_episode ON {{schema}}.episode_event (episode_id);

CREATE INDEX IF NOT EXISTS ix_fact_relationship_fact_1 ON {{schema}}.fact_relationship (domain_concept_id_1, fact_id_1);
CREATE INDEX IF NOT EXISTS ix_cohort_definition_subject_start ON {{schema}}.cohort (cohort_definition_id, subject_id, cohort_start_date);

-- Vocabulary: code look-ups, hierarchy expansion (ancestor -> descendants) and mappings.
CREATE INDEX IF NOT EXISTS ix_concept_code_vocabulary ON {{schema}}.concept (concept_code, vocabulary_id);
CREATE INDEX IF NOT EXISTS ix_concept_vocabulary ON {{schema}}.concept (vocabulary_id);
CREATE INDEX IF NOT EXISTS ix_concept_domain ON {{schema}}.concept (domain_id);
CREATE INDEX IF NOT EXISTS ix_concept_class ON {{schema}}.concept (concept_class_id);
CREATE INDEX IF NOT EXISTS ix_concept_ancestor_ancestor ON {{schema}}.concept_ancestor (ancestor_concept_id, descendant_concept_id);
CREATE INDEX IF NOT EXISTS ix_concept_ancestor_descendant ON {{schema}}.concept_ancestor (descendant_concept_id);
CREATE INDEX IF NOT EXISTS ix_concept_relationship_1 ON {{schema}}.concept_relationship (concept_id_1, relationship_id);
CREATE INDEX IF NOT EXISTS ix_concept_relationship_2 ON {{schema}}.concept_relationship (concept_id_2);
CREATE INDEX IF NOT EXISTS ix_concept_synonym_concept ON {{schema}}.concept_synonym (concept_id);
CREATE INDEX IF NOT EXISTS ix_source_to_concept_map_source ON {{schema}}.source_to_concept_map (source_code, source_vocabulary_id);
CREATE INDEX IF NOT EXISTS ix_source_to_concept_map_target ON {{schema}}.source_to_concept_map (target_concept_id);
CREATE INDEX IF NOT EXISTS ix_drug_strength_drug ON {{schema}}.drug_strength (drug_concept_id);
CREATE INDEX IF NOT EXISTS ix_drug_strength_ingredient ON {{schema}}.drug_strength (ingredient_concept_id);
