using Dapper;
using RwePortal.Warehouse.Synthetic;
using RwePortal.Warehouse.Vocabulary;

namespace RwePortal.Warehouse.Tests.Synthetic;

/// <summary>
/// The known-truth design, checked from the warehouse as an analyst would see it: a new-user cohort of
/// sacubitril/valsartan vs enalapril built in SQL, baseline covariates from every modality strictly before the index
/// date, first HF hospitalisation as outcome. The crude hazard ratio is biased; adjusting for the documented
/// confounders recovers the true effect (conditional HR 0.75; the marginal HR that IPTW targets is computed from the
/// model's potential outcomes).
/// </summary>
[Collection(SyntheticWarehouseCollection.Name)]
public sealed class KnownTruthTests(SyntheticWarehouseFixture fixture)
{
    private static List<CohortRow>? _cohort;

    [Fact]
    public async Task Both_treatments_have_new_users_whose_choice_depends_on_confounders_from_every_modality()
    {
        var cohort = await CohortAsync();
        var treated = cohort.Where(r => r.Treated).ToList();
        var comparator = cohort.Where(r => !r.Treated).ToList();

        Assert.True(treated.Count > 1500 && comparator.Count > 1500, $"{treated.Count} vs {comparator.Count} new users");
        Assert.True(treated.Average(r => r.Age) < comparator.Average(r => r.Age) - 3, "EHR: sacubitril/valsartan users are younger");
        Assert.True(treated.Average(r => r.Egfr) > comparator.Average(r => r.Egfr) + 8, "EHR: better kidney function");
        Assert.True(treated.Average(r => r.Lvef) < comparator.Average(r => r.Lvef) - 2, "EHR: lower ejection fraction");
        Assert.True(treated.Average(r => r.Ckd ? 1.0 : 0) < comparator.Average(r => r.Ckd ? 1.0 : 0) - 0.15, "EHR: less CKD");
        Assert.True(Mean(treated.Where(r => r.HasSteps), r => r.MeanSteps) > Mean(comparator.Where(r => r.HasSteps), r => r.MeanSteps) + 800, "wearables: more steps");
        Assert.True(treated.Average(r => r.TtrCarrier ? 1.0 : 0) > comparator.Average(r => r.TtrCarrier ? 1.0 : 0), "genomics: known TTR V142I carriers");
        Assert.True(treated.Average(r => Math.Log(1 + r.PriorPaid)) > comparator.Average(r => Math.Log(1 + r.PriorPaid)) + 0.3, "claims: higher prior-year cost");
    }

    [Fact]
    public async Task The_covariates_computed_in_sql_are_exactly_the_ones_the_model_used()
    {
        var cohort = await CohortAsync();
        var truths = Truths();

        Assert.Equal(truths.Values.Count(t => t.Arm is TreatmentArm.SacubitrilValsartan or TreatmentArm.Enalapril), cohort.Count);
        foreach (var row in cohort)
        {
            var truth = truths[row.PersonId];
            Assert.Equal(truth.Arm == TreatmentArm.SacubitrilValsartan, row.Treated);
            Assert.Equal(truth.IndexDate, row.IndexDate);
            Assert.Equal(truth.Covariates.Egfr, row.Egfr, 6);
            Assert.Equal(truth.Covariates.Lvef, row.Lvef, 6);
            Assert.Equal(truth.Covariates.ChronicKidneyDisease, row.Ckd);
            Assert.Equal(truth.Covariates.HasWearableBaseline, row.HasSteps);
            Assert.Equal(truth.Covariates.MeanDailySteps, row.HasSteps ? row.MeanSteps : 0, 6);
            Assert.Equal(truth.Covariates.TtrV142IKnownCarrier, row.TtrCarrier);
            Assert.Equal(truth.Covariates.PriorYearPaid, row.PriorPaid, 2);
            Assert.Equal(truth.FirstHeartFailureHospitalisation, row.OutcomeDate);
        }
    }

    [Fact]
    public async Task The_crude_hazard_ratio_is_biased_and_adjusting_for_the_confounders_recovers_the_truth()
    {
        var cohort = await CohortAsync();
        var time = cohort.Select(r => (double)((r.OutcomeDate ?? r.EndDate).DayNumber - r.IndexDate.DayNumber)).ToList();
        var events = cohort.Select(r => r.OutcomeDate is not null).ToList();
        var treatment = cohort.Select(r => new[] { r.Treated ? 1.0 : 0 }).ToList();
        var covariates = cohort.Select(Covariates).ToList();

        var crude = Math.Exp(Estimation.Cox(time, events, treatment)[0]);

        // Outcome regression with the documented confounders: the conditional HR the hazard model was written with.
        var conditional = Math.Exp(Estimation.Cox(time, events, cohort.Select((r, i) => treatment[i].Concat(covariates[i]).ToArray()).ToList())[0]);

        // IPTW (ATE): a logistic propensity model on the same covariates, then a weighted Cox model with treatment only.
        var propensity = Estimation.Logistic(covariates, cohort.Select(r => r.Treated).ToList());
        var weights = cohort.Select((r, i) =>
        {
            var p = Estimation.Predict(propensity, covariates[i]);
            return r.Treated ? 1 / p : 1 / (1 - p);
        }).ToList();
        var iptw = Math.Exp(Estimation.Cox(time, events, treatment, weights)[0]);
        var marginalTruth = MarginalTruth();

        Assert.InRange(marginalTruth, 0.77, 0.83);
        Assert.True(Math.Abs(Math.Log(crude / marginalTruth)) > 0.25, $"crude HR {crude:F3} should be far from the truth {marginalTruth:F3}");
        Assert.True(Math.Abs(Math.Log(crude / SyntheticModel.TrueHazardRatio)) > 0.25, $"crude HR {crude:F3} vs conditional truth 0.75");
        Assert.True(Math.Abs(Math.Log(conditional / SyntheticModel.TrueHazardRatio)) < 0.12, $"adjusted Cox HR {conditional:F3} vs truth 0.75");
        Assert.True(Math.Abs(Math.Log(iptw / marginalTruth)) < 0.12, $"IPTW HR {iptw:F3} vs marginal truth {marginalTruth:F3}");
    }

    [Fact]
    public void The_generated_hazard_follows_the_documented_model()
    {
        // Directly from the model: the same draw gives event times whose hazard ratio is exactly the true effect.
        var eventFree = SyntheticModel.EventTimeYears(1.0, 0.3, treated: false);
        var treatedTime = SyntheticModel.EventTimeYears(1.0, 0.3, treated: true);
        var cumulative = (double t) => SyntheticModel.WeibullRatePerYear * Math.Exp(0.3) * Math.Pow(t, SyntheticModel.WeibullShape);

        // Untreated: cumulative hazard reaches the unit draw at the event time; treated: it reaches draw / HR.
        Assert.Equal(1.0, cumulative(eventFree), 9);
        Assert.Equal(SyntheticModel.TrueHazardRatio, cumulative(eventFree) / cumulative(treatedTime), 9);
        Assert.True(treatedTime > eventFree);
    }

    private static double[] Covariates(CohortRow r)
    {
        var x = new BaselineCovariates(r.Age, r.Ckd, r.Egfr, r.Lvef, r.HasSteps, r.HasSteps ? r.MeanSteps : 0, r.TtrCarrier, r.PriorPaid, r.Type2Diabetes, r.AtrialFibrillation);
        return [x.Age10, x.ChronicKidneyDisease ? 1 : 0, x.Egfr15, x.Lvef10, x.HasWearableBaseline ? 1 : 0, x.Steps2K, x.TtrV142IKnownCarrier ? 1 : 0, x.CostZ, x.Type2Diabetes ? 1 : 0, x.AtrialFibrillation ? 1 : 0];
    }

    private static double Mean(IEnumerable<CohortRow> rows, Func<CohortRow, double> value) => rows.Select(value).DefaultIfEmpty(0).Average();

    private static Dictionary<long, PersonTruth> Truths() =>
        SyntheticLoader.Generate(SyntheticWarehouseFixture.AnalysisSeed, 1, (int)SyntheticWarehouseFixture.AnalysisPersons).Truths.ToDictionary(t => t.PersonId);

    /// <summary>The marginal HR: a Cox fit on both potential outcomes of every new user (same draw, same censoring).</summary>
    private static double MarginalTruth()
    {
        var time = new List<double>();
        var events = new List<bool>();
        var arm = new List<double[]>();
        foreach (var t in Truths().Values.Where(t => t.IndexDate is not null))
        {
            var censor = t.FollowUpEnd.DayNumber - t.IndexDate!.Value.DayNumber;
            foreach (var treated in new[] { true, false })
            {
                var days = Math.Max(1, (int)Math.Min(SyntheticModel.EventTimeYears(t.UnitExponentialDraw, t.LinearPredictorWithoutTreatment, treated) * 365.25, 40 * 365.25));
                time.Add(Math.Min(days, censor));
                events.Add(days < censor);
                arm.Add([treated ? 1 : 0]);
            }
        }

        return Math.Exp(Estimation.Cox(time, events, arm)[0]);
    }

    private async Task<List<CohortRow>> CohortAsync()
    {
        if (_cohort is not null)
        {
            return _cohort;
        }

        await using var connection = await fixture.DataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<CohortRow>(new CommandDefinition(
            """
            WITH hf AS (
                SELECT descendant_concept_id AS concept_id FROM cdm_syn.concept_ancestor WHERE ancestor_concept_id = @hf
            ), first_hf AS (
                SELECT co.person_id, min(co.condition_start_date) AS diagnosed
                FROM cdm_syn.condition_occurrence co JOIN hf ON hf.concept_id = co.condition_concept_id
                GROUP BY co.person_id
            ), first_use AS (
                SELECT DISTINCT ON (de.person_id) de.person_id, de.drug_concept_id, de.drug_exposure_start_date AS index_date
                FROM cdm_syn.drug_exposure de
                WHERE de.drug_concept_id IN (SELECT descendant_concept_id FROM cdm_syn.concept_ancestor WHERE ancestor_concept_id IN (@sacubitril, @enalapril))
                ORDER BY de.person_id, de.drug_exposure_start_date, de.drug_concept_id
            ), cohort AS (
                -- New users after the diagnosis; users who started before it are prevalent users.
                SELECT f.person_id, f.index_date, f.drug_concept_id = @arni AS treated
                FROM first_use f JOIN first_hf h ON h.person_id = f.person_id
                WHERE f.index_date > h.diagnosed
            ), outcomes AS (
                -- First inpatient stay coded with heart failure (or a descendant) after the index date.
                SELECT c.person_id, min(vo.visit_start_date) AS admitted
                FROM cohort c
                JOIN cdm_syn.visit_occurrence vo ON vo.person_id = c.person_id AND vo.visit_concept_id = @inpatient AND vo.visit_start_date > c.index_date
                JOIN cdm_syn.condition_occurrence co ON co.visit_occurrence_id = vo.visit_occurrence_id AND co.person_id = c.person_id
                JOIN hf ON hf.concept_id = co.condition_concept_id
                GROUP BY c.person_id
            )
            SELECT c.person_id AS PersonId, c.treated AS Treated, c.index_date AS IndexDateTime,
                   ((c.index_date - p.birth_datetime::date) / 365.25)::float8 AS Age,
                   EXISTS (SELECT 1 FROM cdm_syn.condition_occurrence co JOIN cdm_syn.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id
                           WHERE ca.ancestor_concept_id = @ckd AND co.person_id = c.person_id AND co.condition_start_date < c.index_date) AS Ckd,
                   EXISTS (SELECT 1 FROM cdm_syn.condition_occurrence co JOIN cdm_syn.concept_ancestor ca ON ca.descendant_concept_id = co.condition_concept_id
                           WHERE ca.ancestor_concept_id = @diabetes AND co.person_id = c.person_id AND co.condition_start_date < c.index_date) AS Type2Diabetes,
                   EXISTS (SELECT 1 FROM cdm_syn.condition_occurrence co
                           WHERE co.condition_concept_id = @af AND co.person_id = c.person_id AND co.condition_start_date < c.index_date) AS AtrialFibrillation,
                   (SELECT m.value_as_number::float8 FROM cdm_syn.measurement m WHERE m.person_id = c.person_id AND m.measurement_concept_id = @egfr
                      AND m.measurement_date < c.index_date ORDER BY m.measurement_date DESC, m.measurement_id DESC LIMIT 1) AS Egfr,
                   (SELECT m.value_as_number::float8 FROM cdm_syn.measurement m WHERE m.person_id = c.person_id AND m.measurement_concept_id = @lvef
                      AND m.measurement_date < c.index_date ORDER BY m.measurement_date DESC, m.measurement_id DESC LIMIT 1) AS Lvef,
                   (SELECT count(*) >= 10 FROM cdm_syn.wearable_daily w WHERE w.person_id = c.person_id
                      AND w.measurement_date >= c.index_date - 30 AND w.measurement_date < c.index_date) AS HasSteps,
                   COALESCE((SELECT avg(w.steps)::float8 FROM cdm_syn.wearable_daily w WHERE w.person_id = c.person_id
                      AND w.measurement_date >= c.index_date - 30 AND w.measurement_date < c.index_date), 0) AS MeanSteps,
                   EXISTS (SELECT 1 FROM cdm_syn.variant_occurrence v WHERE v.person_id = c.person_id AND v.rsid = 'rs76992529' AND v.sample_date < c.index_date) AS TtrCarrier,
                   (COALESCE((SELECT sum(x.total_paid) FROM cdm_syn.cost x JOIN cdm_syn.visit_occurrence vo ON x.cost_domain_id = 'Visit' AND vo.visit_occurrence_id = x.cost_event_id
                              WHERE vo.person_id = c.person_id AND vo.visit_start_date >= c.index_date - 365 AND vo.visit_start_date < c.index_date), 0)
                    + COALESCE((SELECT sum(x.total_paid) FROM cdm_syn.cost x JOIN cdm_syn.drug_exposure de ON x.cost_domain_id = 'Drug' AND de.drug_exposure_id = x.cost_event_id
                              WHERE de.person_id = c.person_id AND de.drug_exposure_start_date >= c.index_date - 365 AND de.drug_exposure_start_date < c.index_date), 0))::float8 AS PriorPaid,
                   o.admitted AS OutcomeDateTime,
                   (SELECT max(op.observation_period_end_date) FROM cdm_syn.observation_period op WHERE op.person_id = c.person_id) AS EndDateTime
            FROM cohort c JOIN cdm_syn.person p ON p.person_id = c.person_id
            LEFT JOIN outcomes o ON o.person_id = c.person_id
            ORDER BY c.person_id
            """,
            new
            {
                hf = ConceptIds.HeartFailure,
                sacubitril = ConceptIds.Sacubitril,
                enalapril = ConceptIds.Enalapril,
                arni = ConceptIds.SacubitrilValsartan,
                ckd = ConceptIds.ChronicKidneyDisease,
                diabetes = ConceptIds.DiabetesMellitus,
                af = ConceptIds.AtrialFibrillation,
                egfr = ConceptIds.EstimatedGfr,
                lvef = ConceptIds.LeftVentricularEjectionFraction,
                inpatient = ConceptIds.InpatientVisit,
            },
            commandTimeout: 300));
        _cohort = rows.ToList();
        return _cohort;
    }

    private sealed record CohortRow(
        long PersonId,
        bool Treated,
        DateOnly IndexDateTime,
        double Age,
        bool Ckd,
        bool Type2Diabetes,
        bool AtrialFibrillation,
        double Egfr,
        double Lvef,
        bool HasSteps,
        double MeanSteps,
        bool TtrCarrier,
        double PriorPaid,
        DateOnly? OutcomeDateTime,
        DateOnly EndDateTime)
    {
        public DateOnly IndexDate => IndexDateTime;

        public DateOnly? OutcomeDate => OutcomeDateTime;

        public DateOnly EndDate => EndDateTime;
    }
}
