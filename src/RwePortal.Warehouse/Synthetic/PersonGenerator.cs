using System.Globalization;
using C = RwePortal.Warehouse.Vocabulary.ConceptIds;

namespace RwePortal.Warehouse.Synthetic;

/// <summary>
/// Generates every row of one synthetic heart-failure patient from (seed, person id) alone, following the model in
/// docs/synthetic-data-model.md: history before the index date first, then baseline covariates computed from those
/// rows exactly as an analyst would, then treatment choice and outcome from them, then follow-up.
/// </summary>
public sealed class PersonGenerator(long seed)
{
    /// <summary>Row ids are person_id × IdStride + a per-person sequence: deterministic without coordination.</summary>
    public const long IdStride = 1000;

    /// <summary>Largest person id whose row ids still fit the CDM's integer id columns.</summary>
    public const long MaxPersonId = (int.MaxValue / IdStride) - 1;

    public const string RecordedBy = "synthetic-generator";

    private static readonly string[] Devices = ["fitbit-charge-5", "apple-watch-8", "garmin-vivosmart-5"];

    public long Seed { get; } = seed;

    public PersonTruth Generate(long personId, SyntheticBatch batch)
    {
        if (personId < 1 || personId > MaxPersonId)
        {
            throw new ArgumentOutOfRangeException(nameof(personId), personId, $"person ids run from 1 to {MaxPersonId}");
        }

        var truth = new Builder(Seed, personId, batch).Build();
        batch.Truths.Add(truth);
        return truth;
    }

    private enum Phenotype
    {
        Reduced,
        MildlyReduced,
        Preserved,
    }

    private sealed class Builder(long seed, long personId, SyntheticBatch batch)
    {
        private readonly SyntheticRandom _rng = new(seed, personId);
        private readonly long _idBase = personId * IdStride;
        private readonly List<(DateOnly Start, DateOnly End, long Id)> _coverage = [];
        private readonly List<Course> _courses = [];
        private readonly int _measurementStart = batch.Measurements.Count;
        private readonly int _visitStart = batch.Visits.Count;
        private int _visitSeq;
        private int _conditionSeq;
        private int _drugSeq;
        private int _measurementSeq;
        private int _observationSeq;
        private int _costSeq;
        private int _payerSeq;

        // Person-level traits.
        private bool _male;
        private int _race;
        private DateOnly _birth;
        private DateOnly _observationStart;
        private DateOnly _hfDiagnosis;
        private DateOnly _index;
        private DateOnly _followUpEnd;
        private DateOnly? _disenrollment;
        private DateOnly? _death;
        private Phenotype _phenotype;
        private double _frailty;
        private bool _hypertension;
        private bool _diabetes;
        private bool _fibrillation;
        private bool _kidney;
        private bool _copd;
        private bool _priorMi;
        private bool _hyperlipidemia;
        private bool _depression;
        private bool _ttrCarrier;
        private bool _sequenced;
        private bool _wearer;
        private double _egfr0;
        private double _lvef0;
        private double _bmi;
        private double _sbp0;
        private double _dbp0;
        private double _hba1c0;
        private double _logNtProBnp0;
        private double _stepsLevel;
        private double _restingHr0;
        private double _hrv0;
        private string _device = Devices[0];
        private DateOnly? _sampleDate;
        private double _priorYearPaid;
        private readonly List<DateOnly> _hfHospitalisations = [];

        private int Age(DateOnly at) => (int)((at.DayNumber - _birth.DayNumber) / 365.25);

        public PersonTruth Build()
        {
            DrawTraits();
            var arm = DrawStrategy();

            // History up to the day before the index date: everything the baseline covariates are computed from.
            WriteBaselineHistory(arm);
            var covariates = ComputeBaselineCovariates();
            var propensity = SyntheticModel.Logistic(SyntheticModel.TreatmentLogit(covariates));
            if (arm == TreatmentArm.Enalapril && _rng.Bernoulli(propensity))
            {
                // New users are drawn as a group; the propensity model picks the drug.
                arm = TreatmentArm.SacubitrilValsartan;
            }

            // Death and disenrollment end follow-up; neither depends on treatment.
            var deathYears = _rng.Exponential(SyntheticModel.DeathRatePerYear * Math.Exp(SyntheticModel.DeathLinearPredictor(covariates, _copd)));
            var death = AddYears(_index, deathYears, minimumDays: 1);
            _followUpEnd = Min(SyntheticModel.DataEnd, _disenrollment ?? SyntheticModel.DataEnd);
            if (death <= _followUpEnd)
            {
                _death = death;
                _followUpEnd = death;
            }

            var linearPredictor = SyntheticModel.OutcomeLinearPredictor(covariates, _ttrCarrier);
            var unitExponential = _rng.Exponential(1);
            var eventYears = SyntheticModel.EventTimeYears(unitExponential, linearPredictor, arm == TreatmentArm.SacubitrilValsartan);
            var firstEvent = AddYears(_index, eventYears, minimumDays: 1);
            DateOnly? outcome = firstEvent < _followUpEnd ? firstEvent : null;
            if (outcome is { } first)
            {
                _hfHospitalisations.Add(first);
                // A second admission, at a higher rate after the first.
                var second = AddYears(first, _rng.Exponential(0.45), minimumDays: 20);
                if (second < _followUpEnd)
                {
                    _hfHospitalisations.Add(second);
                }
            }

            WriteFollowUp(arm);
            WritePersonAndPeriods();
            WriteWearables();
            WriteGenomics();
            WriteConsents();

            // Negative-control conditions last, from a random stream of their own: no earlier draw or row id changes.
            var negativeControls = NegativeControlConditions.Draw(seed, personId, covariates, _male, _observationStart, _followUpEnd);
            foreach (var record in negativeControls)
            {
                AddCondition(record.ConceptId, record.Date, null);
            }

            // The background history after them, from its own stream as well.
            foreach (var (concept, date) in BackgroundConditions.Draw(seed, personId, _observationStart, _followUpEnd))
            {
                AddCondition(concept, date, null);
            }

            return new PersonTruth(
                personId, arm, arm is TreatmentArm.SacubitrilValsartan or TreatmentArm.Enalapril ? _index : null, covariates, _ttrCarrier,
                propensity, linearPredictor, unitExponential, _followUpEnd, outcome)
            {
                NegativeControlRecords = negativeControls,
            };
        }

        // ------------------------------------------------------------------ traits

        private void DrawTraits()
        {
            _male = _rng.Bernoulli(0.56);
            _race = _rng.Choose([0.74, 0.16, 0.06, 0.04]) switch
            {
                0 => C.White,
                1 => C.BlackOrAfricanAmerican,
                2 => C.Asian,
                _ => 0,
            };
            _hfDiagnosis = new DateOnly(2021, 1, 1).AddDays(_rng.Next(0, 1461));
            var ageAtDiagnosis = _rng.TruncatedNormal(72, 10, 35, 97);
            _birth = _hfDiagnosis.AddDays(-(int)(ageAtDiagnosis * 365.25));
            _observationStart = _hfDiagnosis.AddDays(-_rng.Next(380, 900));
            var age10 = (ageAtDiagnosis - 72) / 10;

            _frailty = _rng.Normal(0.3 * age10, 1);
            _hypertension = _rng.Bernoulli(0.78);
            _diabetes = _rng.Bernoulli(0.38);
            _fibrillation = _rng.Bernoulli(Math.Clamp(0.24 + (0.08 * age10), 0.05, 0.6));
            _copd = _rng.Bernoulli(_male ? 0.22 : 0.16);
            _priorMi = _rng.Bernoulli(_male ? 0.33 : 0.22);
            _hyperlipidemia = _rng.Bernoulli(0.55);
            _depression = _rng.Bernoulli(_male ? 0.12 : 0.19);
            _kidney = _rng.Bernoulli(SyntheticModel.Logistic(-0.55 + (0.6 * age10) + (_diabetes ? 0.5 : 0) + (_hypertension ? 0.3 : 0)));

            _egfr0 = _kidney ? _rng.TruncatedNormal(42, 11, 8, 59) : _rng.TruncatedNormal(76 - (6 * age10), 13, 60, 120);
            var reducedShare = _male ? 0.56 : 0.42;
            _phenotype = _rng.Choose([reducedShare, 0.15, 0.85 - reducedShare]) switch
            {
                0 => Phenotype.Reduced,
                1 => Phenotype.MildlyReduced,
                _ => Phenotype.Preserved,
            };
            _lvef0 = _phenotype switch
            {
                Phenotype.Reduced => _rng.TruncatedNormal(29, 6, 10, 40),
                Phenotype.MildlyReduced => _rng.Uniform(41, 49.5),
                _ => _rng.TruncatedNormal(58, 6, 50, 75),
            };
            _bmi = _rng.TruncatedNormal(30.5, 6, 16, 55);
            _sbp0 = _rng.Normal(128 + (_hypertension ? 6 : 0), 14);
            _dbp0 = _rng.Normal(75, 9);
            _hba1c0 = _diabetes ? _rng.TruncatedNormal(7.6, 1.1, 5.8, 13) : _rng.TruncatedNormal(5.5, 0.35, 4.5, 6.4);
            _logNtProBnp0 = 7.0 + (0.35 * age10) - (0.035 * (_lvef0 - 40)) + (0.015 * (60 - _egfr0)) + (_fibrillation ? 0.35 : 0) + _rng.Normal(0, 0.55);

            _ttrCarrier = _rng.Bernoulli(_race == C.BlackOrAfricanAmerican ? 0.12 : 0.012);
            _sequenced = _rng.Bernoulli(0.30);
            _wearer = _rng.Bernoulli(SyntheticModel.Logistic(-0.35 - (0.45 * age10) - (0.2 * _frailty)));
            _device = Devices[_rng.Next(0, Devices.Length)];
            _stepsLevel = Math.Exp(Math.Log(5200) - (0.30 * age10) - (0.25 * _frailty) - (_phenotype == Phenotype.Reduced ? 0.15 : 0) + _rng.Normal(0, 0.35));
            _restingHr0 = 68 + (2.5 * _frailty) + (_fibrillation ? 4 : 0) + _rng.Normal(0, 4);
            _hrv0 = Math.Exp(Math.Log(26) - (0.15 * age10) - (0.1 * _frailty) + _rng.Normal(0, 0.3));

            if (_rng.Bernoulli(0.12))
            {
                _disenrollment = AddYears(_hfDiagnosis.AddDays(90), _rng.Exponential(1 / 2.5), minimumDays: 0);
                if (_disenrollment > SyntheticModel.DataEnd)
                {
                    _disenrollment = null;
                }
            }
        }

        private TreatmentArm DrawStrategy()
        {
            var u = _rng.NextDouble();
            _index = _hfDiagnosis.AddDays(_rng.Next(1, 61));
            return u switch
            {
                < 0.12 => TreatmentArm.PrevalentEnalapril,
                < 0.84 => TreatmentArm.Enalapril, // a new user; the drug is chosen once baseline covariates exist
                _ => TreatmentArm.None,
            };
        }

        // ------------------------------------------------------------------ baseline

        private void WriteBaselineHistory(TreatmentArm strategy)
        {
            WriteEnrollment();

            // Comorbidities are first recorded at the first visit, chronic drugs start there.
            var firstVisit = AddOutpatientVisit(_observationStart.AddDays(_rng.Next(0, 45)), baseline: true);
            RecordComorbidities(firstVisit.Id, firstVisit.Date);
            StartBackgroundCourses(firstVisit.Date, strategy);

            for (var date = firstVisit.Date.AddDays(NextInterval()); date < _hfDiagnosis; date = date.AddDays(NextInterval()))
            {
                AddOutpatientVisit(date, baseline: true);
            }

            AddAcuteVisits(_observationStart, _hfDiagnosis, beforeHeartFailure: true);

            // The diagnosis: an echo (LVEF), NT-proBNP, eGFR and the first questionnaires.
            var diagnosisInpatient = _rng.Bernoulli(0.25);
            long diagnosisVisit;
            if (diagnosisInpatient)
            {
                diagnosisVisit = AddInpatientStay(_hfDiagnosis, _rng.Next(3, 8), heartFailure: true);
            }
            else
            {
                diagnosisVisit = AddVisit(C.OutpatientVisit, _hfDiagnosis, _hfDiagnosis, "cardiology clinic");
                AddVisitCost(diagnosisVisit, _hfDiagnosis, C.OutpatientVisit, null);
                AddCondition(HeartFailureConcept(), _hfDiagnosis, diagnosisVisit);
            }

            AddMeasurement(C.LeftVentricularEjectionFraction, _hfDiagnosis, Math.Round(Math.Clamp(_lvef0 + _rng.Normal(0, 2), 8, 80), 0), C.UnitPercent, 50, 70, diagnosisVisit);
            AddMeasurement(C.NtProBnp, _hfDiagnosis, Math.Round(Math.Exp(_logNtProBnp0 + (diagnosisInpatient ? 0.8 : 0)), 0), C.UnitPicogramPerMilliliter, 0, 125, diagnosisVisit);
            AddMeasurement(C.EstimatedGfr, _hfDiagnosis, EgfrAt(_hfDiagnosis), C.UnitMlPerMinPer173M2, 60, 120, diagnosisVisit);
            AddVitals(_hfDiagnosis, diagnosisVisit, withBmi: true);
            if (_rng.Bernoulli(0.9))
            {
                AddQuestionnaires(_hfDiagnosis, recentHospitalisation: diagnosisInpatient);
            }

            StartHeartFailureCourses(_hfDiagnosis);

            // Follow-up visit that starts the study drug (new users) or simply reviews (others).
            var indexVisit = AddVisit(C.OutpatientVisit, _index, _index, "cardiology clinic");
            AddVisitCost(indexVisit, _index, C.OutpatientVisit, null);
            AddCondition(HeartFailureConcept(), _index, indexVisit);
            AddVitals(_index, indexVisit, withBmi: false);
        }

        private void RecordComorbidities(long visitId, DateOnly date)
        {
            if (_hypertension)
            {
                AddCondition(C.EssentialHypertension, date, visitId);
            }

            if (_diabetes)
            {
                AddCondition(C.Type2DiabetesMellitus, date, visitId);
                AddMeasurement(C.HemoglobinA1c, date, Math.Round(_rng.Normal(_hba1c0, 0.3), 1), C.UnitPercent, 4, 5.6, visitId);
            }

            if (_fibrillation)
            {
                AddCondition(C.AtrialFibrillation, date, visitId);
            }

            if (_kidney)
            {
                AddCondition(_egfr0 switch { < 15 => C.ChronicKidneyDiseaseStage5, < 30 => C.ChronicKidneyDiseaseStage4, _ => C.ChronicKidneyDiseaseStage3 }, date, visitId);
            }

            if (_copd)
            {
                AddCondition(C.ChronicObstructiveLungDisease, date, visitId);
            }

            if (_priorMi)
            {
                AddCondition(C.MyocardialInfarction, date, visitId);
            }

            if (_hyperlipidemia)
            {
                AddCondition(C.Hyperlipidemia, date, visitId);
            }

            if (_depression)
            {
                AddCondition(C.DepressiveDisorder, date, visitId);
            }

            if (_bmi >= 30)
            {
                AddCondition(C.Obesity, date, visitId);
            }

            AddMeasurement(C.EstimatedGfr, date, EgfrAt(date), C.UnitMlPerMinPer173M2, 60, 120, visitId);
            AddVitals(date, visitId, withBmi: true);
        }

        private BaselineCovariates ComputeBaselineCovariates()
        {
            // Strictly before the index date, from the rows written so far (what an analyst sees).
            double egfr = double.NaN, lvef = double.NaN;
            var egfrDate = DateOnly.MinValue;
            var lvefDate = DateOnly.MinValue;
            for (var i = _measurementStart; i < batch.Measurements.Count; i++)
            {
                var m = batch.Measurements[i];
                if (m.Date >= _index)
                {
                    continue;
                }

                if (m.ConceptId == C.EstimatedGfr && m.Date >= egfrDate)
                {
                    egfr = m.Value;
                    egfrDate = m.Date;
                }
                else if (m.ConceptId == C.LeftVentricularEjectionFraction && m.Date >= lvefDate)
                {
                    lvef = m.Value;
                    lvefDate = m.Date;
                }
            }

            var (hasSteps, meanSteps) = BaselineSteps();
            return new BaselineCovariates(
                AgeYears: (_index.DayNumber - _birth.DayNumber) / 365.25,
                ChronicKidneyDisease: _kidney,
                Egfr: egfr,
                Lvef: lvef,
                HasWearableBaseline: hasSteps,
                MeanDailySteps: meanSteps,
                TtrV142IKnownCarrier: _sequenced && _ttrCarrier,
                PriorYearPaid: Math.Round(_priorYearPaid, 2),
                Type2Diabetes: _diabetes,
                AtrialFibrillation: _fibrillation);
        }

        // ------------------------------------------------------------------ follow-up

        private void WriteFollowUp(TreatmentArm arm)
        {
            switch (arm)
            {
                case TreatmentArm.SacubitrilValsartan:
                    AddCourse(C.SacubitrilValsartan, _index, initialDaysSupply: 30, dailyCost: 19.5, persistencePerFill: 0.95);
                    break;
                case TreatmentArm.Enalapril:
                    AddCourse(C.Enalapril, _index, initialDaysSupply: 30, dailyCost: 0.35, persistencePerFill: 0.94);
                    break;
                default:
                    break;
            }

            if (_rng.Bernoulli(0.25))
            {
                var sglt2 = _rng.Bernoulli(0.5) ? C.Dapagliflozin : C.Empagliflozin;
                AddCourse(sglt2, _index.AddDays(_rng.Next(30, 365)), 90, 17.0, 0.92);
            }

            ContinueCourses();
            var lastQuestionnaire = _hfDiagnosis;
            var echoDone = false;
            for (var date = _index.AddDays(NextInterval()); date < _followUpEnd; date = date.AddDays(NextInterval()))
            {
                var visit = AddOutpatientVisit(date, baseline: false);
                if (date.DayNumber - lastQuestionnaire.DayNumber >= 180 && _rng.Bernoulli(0.6))
                {
                    var recent = _hfHospitalisations.Exists(h => h <= date && date.DayNumber - h.DayNumber < 60);
                    AddQuestionnaires(date, recent);
                    lastQuestionnaire = date;
                }

                if (!echoDone && date.DayNumber - _index.DayNumber > 300 && _rng.Bernoulli(0.5))
                {
                    AddMeasurement(C.LeftVentricularEjectionFraction, date, Math.Round(Math.Clamp(_lvef0 + _rng.Normal(1.5, 5), 8, 80), 0), C.UnitPercent, 50, 70, visit.Id);
                    echoDone = true;
                }
            }

            AddAcuteVisits(_index, _followUpEnd, beforeHeartFailure: false);
            foreach (var admission in _hfHospitalisations)
            {
                var stay = AddInpatientStay(admission, _rng.Next(3, 10), heartFailure: true);
                AddMeasurement(C.NtProBnp, admission, Math.Round(Math.Exp(_logNtProBnp0 + 1.1 + _rng.Normal(0, 0.3)), 0), C.UnitPicogramPerMilliliter, 0, 125, stay);
                AddMeasurement(C.EstimatedGfr, admission, Math.Round(Math.Max(5, EgfrAt(admission) - _rng.Uniform(2, 10)), 0), C.UnitMlPerMinPer173M2, 60, 120, stay);
            }

            if (_death is { } death)
            {
                batch.Deaths.Add(new DeathRow(personId, death, C.TypeEhr, _rng.Bernoulli(0.45) ? C.HeartFailure : 0));
            }

            // A stay that began before the end of follow-up was known (the diagnostic admission) ends with it at the latest.
            for (var i = _visitStart; i < batch.Visits.Count; i++)
            {
                if (batch.Visits[i].End > _followUpEnd)
                {
                    batch.Visits[i] = batch.Visits[i] with { End = _followUpEnd };
                }
            }
        }

        // ------------------------------------------------------------------ visits and claims

        private (long Id, DateOnly Date) AddOutpatientVisit(DateOnly date, bool baseline)
        {
            var id = AddVisit(C.OutpatientVisit, date, date, baseline ? "primary care" : "cardiology clinic");
            AddVisitCost(id, date, C.OutpatientVisit, null);
            var afterDiagnosis = date >= _hfDiagnosis;
            AddCondition(afterDiagnosis && _rng.Bernoulli(0.7) ? HeartFailureConcept() : ChronicConditionConcept(), date, id);
            AddVitals(date, id, withBmi: _rng.Bernoulli(0.25));
            if (_rng.Bernoulli(0.35))
            {
                AddMeasurement(C.EstimatedGfr, date, EgfrAt(date), C.UnitMlPerMinPer173M2, 60, 120, id);
                if (afterDiagnosis)
                {
                    var decompensating = _hfHospitalisations.Exists(h => h > date && h.DayNumber - date.DayNumber < 30);
                    AddMeasurement(C.NtProBnp, date, Math.Round(Math.Exp(_logNtProBnp0 + _rng.Normal(decompensating ? 0.8 : 0, 0.35)), 0), C.UnitPicogramPerMilliliter, 0, 125, id);
                }

                if (_diabetes)
                {
                    AddMeasurement(C.HemoglobinA1c, date, Math.Round(_rng.Normal(_hba1c0, 0.4), 1), C.UnitPercent, 4, 5.6, id);
                }
            }

            return (id, date);
        }

        private void AddAcuteVisits(DateOnly from, DateOnly to, bool beforeHeartFailure)
        {
            var years = (to.DayNumber - from.DayNumber) / 365.25;
            var emergencies = _rng.Poisson(years * (0.30 + (0.1 * Math.Max(0, _frailty))));
            for (var i = 0; i < emergencies; i++)
            {
                var date = from.AddDays(_rng.Next(0, Math.Max(1, to.DayNumber - from.DayNumber)));
                var id = AddVisit(C.EmergencyRoomVisit, date, date, "emergency department");
                AddVisitCost(id, date, C.EmergencyRoomVisit, null);
                AddCondition(!beforeHeartFailure && _rng.Bernoulli(0.4) ? C.HeartFailure : ChronicConditionConcept(), date, id);
                AddVitals(date, id, withBmi: false);
            }

            var admissions = _rng.Poisson(years * 0.08);
            for (var i = 0; i < admissions; i++)
            {
                var date = from.AddDays(_rng.Next(0, Math.Max(1, to.DayNumber - from.DayNumber)));
                AddInpatientStay(date, _rng.Next(2, 7), heartFailure: false);
            }
        }

        private long AddInpatientStay(DateOnly admission, int lengthOfStay, bool heartFailure)
        {
            var discharge = admission.AddDays(lengthOfStay);
            if (_followUpEnd != default && discharge > _followUpEnd)
            {
                discharge = _followUpEnd;
            }

            var id = AddVisit(C.InpatientVisit, admission, discharge, heartFailure ? "hospital admission: heart failure" : "hospital admission");
            int drg;
            if (heartFailure)
            {
                AddCondition(_phenotype == Phenotype.Reduced && _rng.Bernoulli(0.6) ? C.AcuteOnChronicSystolicHeartFailure : C.AcuteDecompensatedHeartFailure, admission, id);
                drg = _rng.Choose([0.35, 0.40, 0.25]) switch
                {
                    0 => C.Drg291HeartFailureWithMcc,
                    1 => C.Drg292HeartFailureWithCc,
                    _ => C.Drg293HeartFailureWithoutCcMcc,
                };
            }
            else
            {
                (var condition, drg) = _rng.Next(0, 4) switch
                {
                    0 when _copd => (C.ChronicObstructiveLungDisease, C.Drg190CopdWithMcc),
                    1 when _fibrillation => (C.AtrialFibrillation, C.Drg308ArrhythmiaWithMcc),
                    2 when _kidney => (C.ChronicKidneyDisease, C.Drg683RenalFailureWithCc),
                    _ => (0, C.Drg194PneumoniaWithCc),
                };
                if (condition != 0)
                {
                    AddCondition(condition, admission, id);
                }
            }

            AddVitals(admission, id, withBmi: false);
            AddVisitCost(id, admission, C.InpatientVisit, drg);
            return id;
        }

        private long AddVisit(int concept, DateOnly start, DateOnly end, string source)
        {
            var id = NextId(ref _visitSeq);
            batch.Visits.Add(new VisitRow(id, personId, concept, start, end, C.TypeClaim, source));
            return id;
        }

        private void AddVisitCost(long visitId, DateOnly date, int visitConcept, int? drg)
        {
            var charge = visitConcept switch
            {
                C.InpatientVisit => _rng.LogNormal(Math.Log(drg is C.Drg291HeartFailureWithMcc or C.Drg292HeartFailureWithCc or C.Drg293HeartFailureWithoutCcMcc ? 32000 : 21000), 0.45),
                C.EmergencyRoomVisit => _rng.LogNormal(Math.Log(2800), 0.6),
                _ => _rng.LogNormal(Math.Log(240), 0.5),
            };
            var allowed = charge * _rng.Uniform(0.35, 0.6);
            var patient = visitConcept switch
            {
                C.InpatientVisit => Math.Min(allowed, 1600),
                C.EmergencyRoomVisit => Math.Min(allowed, 150),
                _ => Math.Min(allowed, 30),
            };
            AddCost(visitId, "Visit", date, charge, allowed, patient, drg);
        }

        private void AddCost(long eventId, string domain, DateOnly date, double charge, double allowed, double patientShare, int? drg)
        {
            var plan = CoveringPlan(date);
            var payer = plan is null ? 0 : allowed - patientShare;
            var patient = plan is null ? allowed : patientShare;
            var paid = Math.Round(payer, 2) + Math.Round(patient, 2);
            var drgCode = drg switch
            {
                C.Drg291HeartFailureWithMcc => "291",
                C.Drg292HeartFailureWithCc => "292",
                C.Drg293HeartFailureWithoutCcMcc => "293",
                C.Drg190CopdWithMcc => "190",
                C.Drg308ArrhythmiaWithMcc => "308",
                C.Drg683RenalFailureWithCc => "683",
                C.Drg194PneumoniaWithCc => "194",
                _ => null,
            };
            batch.Costs.Add(new CostRow(
                NextId(ref _costSeq), eventId, domain, C.TypeClaim, Math.Round(charge, 2), Math.Round(allowed, 2), paid,
                Math.Round(payer, 2), Math.Round(patient, 2), plan, drg, drgCode));
            if (date < _index && date.DayNumber >= _index.DayNumber - 365)
            {
                _priorYearPaid += paid;
            }
        }

        private long? CoveringPlan(DateOnly date)
        {
            foreach (var (start, end, id) in _coverage)
            {
                if (date >= start && date <= end)
                {
                    return id;
                }
            }

            return null;
        }

        private void WriteEnrollment()
        {
            var age = Age(_observationStart);
            var (payer, plan) = age >= 65
                ? _rng.Choose([0.85, 0.10, 0.05]) switch
                {
                    0 => (C.PayerMedicare, "Medicare Advantage"),
                    1 => (C.PayerCommercial, "Group PPO"),
                    _ => (C.PayerMedicaid, "Medicaid managed care"),
                }
                : _rng.Choose([0.7, 0.3]) switch
                {
                    0 => (C.PayerCommercial, "Group PPO"),
                    _ => (C.PayerMedicaid, "Medicaid managed care"),
                };
            var payerSource = payer switch
            {
                C.PayerMedicare => "MEDICARE",
                C.PayerCommercial => "COMMERCIAL",
                _ => "MEDICAID",
            };
            var start = _observationStart.AddDays(-_rng.Next(0, 400));
            var end = _disenrollment ?? SyntheticModel.DataEnd;
            if (_rng.Bernoulli(0.2))
            {
                // A gap in enrollment (lapsed premium, job change) somewhere after diagnosis.
                var gapStart = _hfDiagnosis.AddDays(_rng.Next(90, 700));
                var gapEnd = gapStart.AddDays(_rng.Next(30, 120));
                if (gapEnd < end)
                {
                    AddPlan(start, gapStart.AddDays(-1), payer, payerSource, plan);
                    AddPlan(gapEnd.AddDays(1), end, payer, payerSource, plan);
                    return;
                }
            }

            AddPlan(start, end, payer, payerSource, plan);
        }

        private void AddPlan(DateOnly start, DateOnly end, int payer, string payerSource, string plan)
        {
            var id = NextId(ref _payerSeq);
            _coverage.Add((start, end, id));
            batch.PayerPlanPeriods.Add(new PayerPlanPeriodRow(id, personId, start, end, payer, payerSource, plan));
        }

        // ------------------------------------------------------------------ drugs

        private void StartBackgroundCourses(DateOnly start, TreatmentArm strategy)
        {
            if ((_hyperlipidemia || _priorMi) && _rng.Bernoulli(0.8))
            {
                AddCourse(C.Atorvastatin, start, 90, 0.25, 0.92);
            }

            if (_diabetes && _rng.Bernoulli(0.7))
            {
                AddCourse(C.Metformin, start, 90, 0.15, 0.92);
            }

            if (_fibrillation)
            {
                var anticoagulant = _rng.Choose([0.65, 0.2, 0.15]);
                if (anticoagulant < 2)
                {
                    AddCourse(anticoagulant == 0 ? C.Apixaban : C.Warfarin, start, 90, anticoagulant == 0 ? 16.0 : 0.3, 0.93);
                }
            }

            if (_hypertension && _rng.Bernoulli(0.3))
            {
                AddCourse(C.Amlodipine, start, 90, 0.12, 0.9);
            }

            if (strategy == TreatmentArm.PrevalentEnalapril)
            {
                AddCourse(C.Enalapril, start.AddDays(_rng.Next(0, 120)), 90, 0.35, 0.95);
            }
        }

        private void StartHeartFailureCourses(DateOnly diagnosis)
        {
            if (_rng.Bernoulli(_phenotype == Phenotype.Reduced ? 0.85 : 0.5))
            {
                var betaBlocker = _rng.Choose([0.45, 0.4, 0.15]) switch
                {
                    0 => C.Carvedilol,
                    1 => C.Metoprolol,
                    _ => C.Bisoprolol,
                };
                AddCourse(betaBlocker, diagnosis.AddDays(_rng.Next(0, 30)), 90, 0.3, 0.93);
            }

            if (_rng.Bernoulli(0.7))
            {
                AddCourse(C.Furosemide, diagnosis, 30, 0.1, 0.9);
            }

            if (_phenotype == Phenotype.Reduced && _rng.Bernoulli(0.4))
            {
                AddCourse(_rng.Bernoulli(0.9) ? C.Spironolactone : C.Eplerenone, diagnosis.AddDays(_rng.Next(0, 60)), 90, 0.3, 0.92);
            }
        }

        /// <summary>
        /// Starts a course of dispensings: a first fill of <paramref name="initialDaysSupply"/> days, then 90-day fills, until
        /// discontinuation. Fills before the index date are written now (they count towards prior cost); the rest once
        /// the end of follow-up is known (<see cref="ContinueCourses"/>).
        /// </summary>
        private void AddCourse(int concept, DateOnly start, int initialDaysSupply, double dailyCost, double persistencePerFill)
        {
            var course = new Course(concept, initialDaysSupply, dailyCost, persistencePerFill) { NextFill = start };
            _courses.Add(course);
            Dispense(course, _followUpEnd == default ? _index : _followUpEnd);
        }

        private void ContinueCourses()
        {
            foreach (var course in _courses)
            {
                Dispense(course, _followUpEnd);
            }
        }

        private void Dispense(Course course, DateOnly before)
        {
            while (course.Active && course.NextFill < before)
            {
                var date = course.NextFill;
                var daysSupply = course.Fills < 2 ? course.InitialDaysSupply : 90;
                var refillsLeft = 3 - (course.Fills % 4);
                var id = NextId(ref _drugSeq);
                var doses = course.Concept is C.SacubitrilValsartan or C.Enalapril or C.Metoprolol or C.Carvedilol ? 2 : 1;
                batch.Drugs.Add(new DrugRow(id, personId, course.Concept, date, date.AddDays(daysSupply - 1), C.TypePharmacyClaim, refillsLeft, daysSupply * doses, daysSupply, null));
                var charge = (course.DailyCost * daysSupply * _rng.Uniform(0.9, 1.1)) + 2.5;
                AddCost(id, "Drug", date, charge * 1.25, charge, Math.Min(charge, daysSupply >= 90 ? 25 : 10), null);
                course.Fills++;
                course.Active = _rng.Bernoulli(course.Persistence);

                // Refills come a few days early or late.
                course.NextFill = date.AddDays(daysSupply + _rng.Next(-5, 12));
            }
        }

        private sealed class Course(int concept, int initialDaysSupply, double dailyCost, double persistence)
        {
            public int Concept { get; } = concept;
            public int InitialDaysSupply { get; } = initialDaysSupply;
            public double DailyCost { get; } = dailyCost;
            public double Persistence { get; } = persistence;
            public DateOnly NextFill { get; set; }
            public int Fills { get; set; }
            public bool Active { get; set; } = true;
        }

        // ------------------------------------------------------------------ measurements and questionnaires

        private void AddVitals(DateOnly date, long visitId, bool withBmi)
        {
            AddMeasurement(C.SystolicBloodPressure, date, Math.Round(_rng.Normal(_sbp0, 10)), C.UnitMillimeterMercury, 90, 120, visitId);
            AddMeasurement(C.DiastolicBloodPressure, date, Math.Round(_rng.Normal(_dbp0, 7)), C.UnitMillimeterMercury, 60, 80, visitId);
            if (withBmi)
            {
                AddMeasurement(C.BodyMassIndex, date, Math.Round(_rng.Normal(_bmi, 0.6), 1), C.UnitKilogramPerSquareMeter, 18.5, 25, visitId);
            }
        }

        private void AddQuestionnaires(DateOnly date, bool recentHospitalisation)
        {
            var kccq = Math.Clamp(64 - (10 * _frailty) - (0.25 * (40 - _lvef0)) - (recentHospitalisation ? 15 : 0) + _rng.Normal(0, 9), 0, 100);
            var phq9 = Math.Clamp((_depression ? _rng.Normal(13, 4) : _rng.Normal(5, 3)) + (1.2 * _frailty), 0, 27);
            batch.Observations.Add(new ObservationRow(NextId(ref _observationSeq), personId, C.KccqOverallSummaryScore, date, C.TypePatientFilledSurvey, Math.Round(kccq, 1), C.UnitScore));
            batch.Observations.Add(new ObservationRow(NextId(ref _observationSeq), personId, C.Phq9TotalScore, date, C.TypePatientFilledSurvey, Math.Round(phq9), C.UnitScore));
        }

        private void AddMeasurement(int concept, DateOnly date, double value, int unit, double low, double high, long? visitId)
        {
            batch.Measurements.Add(new MeasurementRow(NextId(ref _measurementSeq), personId, concept, date, C.TypeLab, value, unit, low, high, visitId));
        }

        private void AddCondition(int concept, DateOnly date, long? visitId)
        {
            batch.Conditions.Add(new ConditionRow(NextId(ref _conditionSeq), personId, concept, date, null, C.TypeClaim, visitId));
        }

        private double EgfrAt(DateOnly date)
        {
            var years = (date.DayNumber - _hfDiagnosis.DayNumber) / 365.25;
            return Math.Round(Math.Clamp(_egfr0 - ((_kidney ? 2.5 : 1.0) * years) + _rng.Normal(0, 3), 5, 130), 0);
        }

        private int HeartFailureConcept() => _phenotype switch
        {
            Phenotype.Reduced => _rng.Choose([0.35, 0.3, 0.15, 0.1, 0.1]) switch
            {
                0 => C.HeartFailureReducedEf,
                1 => C.ChronicSystolicHeartFailure,
                2 => C.SystolicHeartFailure,
                3 => C.CongestiveHeartFailure,
                _ => C.HeartFailure,
            },
            Phenotype.MildlyReduced => _rng.Choose([0.6, 0.2, 0.2]) switch
            {
                0 => C.HeartFailureMildlyReducedEf,
                1 => C.ChronicCongestiveHeartFailure,
                _ => C.HeartFailure,
            },
            _ => _rng.Choose([0.35, 0.3, 0.15, 0.2]) switch
            {
                0 => C.HeartFailurePreservedEf,
                1 => C.ChronicDiastolicHeartFailure,
                2 => C.DiastolicHeartFailure,
                _ => C.CongestiveHeartFailure,
            },
        };

        private int ChronicConditionConcept()
        {
            Span<int> candidates = stackalloc int[6];
            var n = 0;
            if (_hypertension)
            {
                candidates[n++] = C.EssentialHypertension;
            }

            if (_diabetes)
            {
                candidates[n++] = C.Type2DiabetesMellitus;
            }

            if (_fibrillation)
            {
                candidates[n++] = C.AtrialFibrillation;
            }

            if (_kidney)
            {
                candidates[n++] = C.ChronicKidneyDisease;
            }

            if (_copd)
            {
                candidates[n++] = C.ChronicObstructiveLungDisease;
            }

            if (_hyperlipidemia)
            {
                candidates[n++] = C.Hyperlipidemia;
            }

            return n == 0 ? C.EssentialHypertension : candidates[_rng.Next(0, n)];
        }

        private int NextInterval() => 45 + (int)_rng.Exponential(1.0 / 200);

        // ------------------------------------------------------------------ person, periods

        private void WritePersonAndPeriods()
        {
            batch.Persons.Add(new PersonRow(
                personId, _male ? C.Male : C.Female, _birth.Year, _birth.Month, _birth.Day, _birth.ToDateTime(TimeOnly.MinValue),
                _race, _rng.Bernoulli(0.10) ? C.HispanicOrLatino : C.NotHispanicOrLatino,
                PersonSourceValue(personId), _male ? "M" : "F"));
            batch.ObservationPeriods.Add(new ObservationPeriodRow(_idBase + 1, personId, _observationStart, _followUpEnd, C.TypeClaim));
        }

        public static string PersonSourceValue(long id) => "SYN" + id.ToString("D7", CultureInfo.InvariantCulture);

        // ------------------------------------------------------------------ wearables

        private void WriteWearables()
        {
            if (!_wearer)
            {
                return;
            }

            // Worn from 30 days before the index date to 45 days after it, and around an HF admission in the first year
            // (remote monitoring continues), so the deterioration before decompensation is in the data.
            var last = _followUpEnd.AddDays(-1);
            var days = new SortedSet<DateOnly>();
            AddDays(days, _index.AddDays(-30), Min(_index.AddDays(45), last));
            foreach (var admission in _hfHospitalisations)
            {
                if (admission.DayNumber - _index.DayNumber <= 365)
                {
                    AddDays(days, admission.AddDays(-35), Min(admission.AddDays(7), last));
                }
            }

            var hourly = _rng.Bernoulli(0.06);
            foreach (var day in days)
            {
                // Each day has a random stream of its own, so baseline steps can be computed before follow-up exists.
                var rng = new SyntheticRandom(seed, personId, day.DayNumber);
                if (!TryWearableDay(day, rng, out var row))
                {
                    continue;
                }

                batch.WearableDaily.Add(row);
                if (hourly && day >= _index.AddDays(-14) && day < _index)
                {
                    AddHours(row, rng);
                }
            }
        }

        private static void AddDays(SortedSet<DateOnly> days, DateOnly from, DateOnly to)
        {
            for (var day = from; day <= to; day = day.AddDays(1))
            {
                days.Add(day);
            }
        }

        private bool TryWearableDay(DateOnly day, SyntheticRandom rng, out WearableDailyRow row)
        {
            row = default;
            if (!rng.Bernoulli(0.86))
            {
                return false;
            }

            var wear = (int)Math.Clamp(rng.Normal(1250, 120), 600, 1440);
            if (rng.Bernoulli(0.05))
            {
                wear = rng.Next(180, 600);
            }

            var (deterioration, inHospital) = Deterioration(day);
            if (inHospital)
            {
                return false;
            }

            var weekend = day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday;
            var steps = (int)(_stepsLevel * Math.Exp(rng.Normal(0, 0.3)) * (weekend ? 0.85 : 1) * (1 - (0.45 * deterioration)) * Math.Min(1, wear / 1300.0));
            var restingHr = Math.Round(_restingHr0 + rng.Normal(0, 1.8) + (9 * deterioration), 1);
            var hrv = Math.Round(Math.Max(4, _hrv0 * Math.Exp(rng.Normal(0, 0.15)) * (1 - (0.3 * deterioration))), 1);
            var sleep = (int)Math.Clamp(rng.Normal(400 - (40 * deterioration), 45), 120, 720);
            row = new WearableDailyRow(personId, day, _device, steps, restingHr, hrv, sleep, wear);
            return true;
        }

        private void AddHours(WearableDailyRow day, SyntheticRandom rng)
        {
            var start = day.Date.ToDateTime(TimeOnly.MinValue);
            for (var hour = 0; hour < 24; hour++)
            {
                var awake = hour is >= 7 and <= 22;
                var activity = awake ? 1 + Math.Sin((hour - 7) * Math.PI / 15) : 0.02;
                var hourSteps = (int)(day.Steps * activity / 16.0 * Math.Exp(rng.Normal(0, 0.4)));
                var meanHr = Math.Round(day.RestingHr + (awake ? 8 + (6 * activity) : -3) + rng.Normal(0, 2.5), 1);
                batch.WearableHourly.Add(new WearableHourlyRow(personId, start.AddHours(hour), _device, meanHr, hourSteps));
            }
        }

        /// <summary>
        /// 0..1 over the three weeks before an HF admission (linear ramp), 0.5 in the week after discharge; no rows
        /// while in hospital. Only from the index date on, so the baseline window never depends on the outcome.
        /// </summary>
        private (double Level, bool InHospital) Deterioration(DateOnly day)
        {
            if (day < _index)
            {
                return (0, false);
            }

            var level = 0.0;
            foreach (var admission in _hfHospitalisations)
            {
                var before = admission.DayNumber - day.DayNumber;
                if (before is > 0 and <= 21)
                {
                    level = Math.Max(level, 1 - ((before - 1) / 21.0));
                }
                else if (before <= 0 && before > -8)
                {
                    return (0.5, before > -4);
                }
            }

            return (level, false);
        }

        /// <summary>Mean daily steps over the 30 days before the index date (at least 10 worn days), exactly as the rows will hold them.</summary>
        private (bool Has, double Mean) BaselineSteps()
        {
            if (!_wearer)
            {
                return (false, 0);
            }

            double sum = 0;
            var days = 0;
            for (var day = _index.AddDays(-30); day < _index; day = day.AddDays(1))
            {
                if (TryWearableDay(day, new SyntheticRandom(seed, personId, day.DayNumber), out var row))
                {
                    sum += row.Steps;
                    days++;
                }
            }

            return days >= 10 ? (true, sum / days) : (false, 0);
        }

        // ------------------------------------------------------------------ genomics

        private void WriteGenomics()
        {
            if (!_sequenced)
            {
                return;
            }

            var sample = _observationStart.AddDays(_rng.Next(0, Math.Max(1, _index.DayNumber - _observationStart.DayNumber)));
            _sampleDate = sample;
            var seq = 0;
            var source = "panel:RWE-CARDIO-v1";
            if (_ttrCarrier)
            {
                AddVariant(GenomicPanel.TtrV142I, sample, _rng.Bernoulli(0.03) ? "homozygous" : "heterozygous", ref seq, source);
            }

            foreach (var variant in GenomicPanel.Common)
            {
                var q = variant.AlleleFrequency;
                var u = _rng.NextDouble();
                if (u < q * q)
                {
                    AddVariant(variant, sample, "homozygous", ref seq, source);
                }
                else if (u < (q * q) + (2 * q * (1 - q)))
                {
                    AddVariant(variant, sample, "heterozygous", ref seq, source);
                }
            }

            var z = _rng.Normal(0, 1);
            batch.GenomicScores.Add(new GenomicScoreRow(
                _idBase + 1, personId, GenomicPanel.PolygenicScoreId, GenomicPanel.PolygenicScoreName, Math.Round(z, 4),
                Math.Round(100 * NormalCdf(z), 2), sample));
        }

        private void AddVariant(PanelVariant v, DateOnly sample, string zygosity, ref int seq, string source)
        {
            seq++;
            batch.Variants.Add(new VariantRow(
                _idBase + seq, personId, sample, v.GeneSymbol, v.HgvsC, v.HgvsP, v.Rsid, v.Chromosome, v.Position,
                v.ReferenceAllele, v.AlternateAllele, zygosity, v.ClinicalSignificance, $"{source}; {v.Note}"));
        }

        private static double NormalCdf(double z)
        {
            // Abramowitz-Stegun 7.1.26 on erf; accurate to 1.5e-7, plenty for a percentile.
            var x = Math.Abs(z) / Math.Sqrt(2);
            var t = 1 / (1 + (0.3275911 * x));
            var erf = 1 - (((((((((1.061405429 * t) - 1.453152027) * t) + 1.421413741) * t) - 0.284496736) * t) + 0.254829592) * t * Math.Exp(-x * x));
            return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
        }

        // ------------------------------------------------------------------ consent

        private void WriteConsents()
        {
            // Most consent to research at enrollment; genomic and wearable research consents follow the modality.
            Consent("research", _observationStart, _rng.Bernoulli(0.96), withdrawal: 0.03);
            Consent("genomic_research", _sampleDate ?? _observationStart, _rng.Bernoulli(_sequenced ? 0.85 : 0.25), withdrawal: 0.02);
            if (_wearer)
            {
                Consent("wearable_research", _index.AddDays(-30), _rng.Bernoulli(0.9), withdrawal: 0.02);
            }

            Consent("commercial_research", _observationStart, _rng.Bernoulli(0.45), withdrawal: 0.05);
            Consent("recontact", _observationStart, _rng.Bernoulli(0.6), withdrawal: 0.01);
        }

        private void Consent(string purpose, DateOnly from, bool granted, double withdrawal)
        {
            if (!granted)
            {
                return;
            }

            if (_rng.Bernoulli(withdrawal))
            {
                var withdrawnOn = from.AddDays(_rng.Next(30, Math.Max(31, SyntheticModel.DataEnd.DayNumber - from.DayNumber)));
                batch.Consents.Add(new ConsentRow(personId, purpose, "granted", from, withdrawnOn.AddDays(-1), RecordedAt(from), null));
                batch.Consents.Add(new ConsentRow(personId, purpose, "withdrawn", withdrawnOn, null, RecordedAt(withdrawnOn), "participant request"));
            }
            else
            {
                batch.Consents.Add(new ConsentRow(personId, purpose, "granted", from, null, RecordedAt(from), null));
            }
        }

        private static DateTime RecordedAt(DateOnly date) => date.ToDateTime(new TimeOnly(9, 0), DateTimeKind.Utc);

        // ------------------------------------------------------------------ helpers

        private long NextId(ref int sequence)
        {
            sequence++;
            if (sequence >= IdStride)
            {
                throw new InvalidOperationException($"person {personId} has more than {IdStride - 1} rows in one table: the id scheme needs a larger stride");
            }

            return _idBase + sequence;
        }

        private static DateOnly AddYears(DateOnly date, double years, int minimumDays)
        {
            var days = Math.Min(years * 365.25, 40 * 365.25);
            return date.AddDays(Math.Max(minimumDays, (int)days));
        }

        private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;

        private static DateOnly Max(DateOnly a, DateOnly b) => a > b ? a : b;
    }
}
