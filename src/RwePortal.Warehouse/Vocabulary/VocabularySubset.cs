using C = RwePortal.Warehouse.Vocabulary.ConceptIds;

namespace RwePortal.Warehouse.Vocabulary;

/// <summary>One row of the OMOP concept table.</summary>
public sealed record ConceptRow(
    int ConceptId,
    string ConceptName,
    string DomainId,
    string VocabularyId,
    string ConceptClassId,
    string? StandardConcept,
    string ConceptCode);

/// <summary>One row of concept_relationship.</summary>
public sealed record ConceptRelationshipRow(int ConceptId1, int ConceptId2, string RelationshipId);

/// <summary>One row of concept_ancestor.</summary>
public sealed record ConceptAncestorRow(int AncestorConceptId, int DescendantConceptId, int MinLevelsOfSeparation, int MaxLevelsOfSeparation);

/// <summary>One row of the vocabulary table.</summary>
public sealed record VocabularyRow(string VocabularyId, string VocabularyName, string VocabularyReference, string VocabularyVersion, int VocabularyConceptId);

/// <summary>One row of the domain table.</summary>
public sealed record DomainRow(string DomainId, string DomainName, int DomainConceptId);

/// <summary>One row of the concept_class table.</summary>
public sealed record ConceptClassRow(string ConceptClassId, string ConceptClassName, int ConceptClassConceptId);

/// <summary>
/// The small OMOP vocabulary the project ships (db/vocabulary/*.csv are written from it): every concept the
/// synthetic generator and the ingesters use, a hierarchy deep enough that "heart failure and its descendants"
/// means something, and concept_ancestor computed from the hierarchy (self rows included, min/max levels).
/// Standard OMOP ids are used where the authors knew them; everything else is a local concept (id 2,000,000,000+,
/// vocabulary 'RwePortal'), so a real vocabulary export never collides with it.
/// </summary>
public static class VocabularySubset
{
    private const string Snomed = "SNOMED";
    private const string Loinc = "LOINC";
    private const string RxNorm = "RxNorm";
    private const string Local = "RwePortal";

    public static IReadOnlyList<ConceptRow> Concepts { get; } = BuildConcepts();

    /// <summary>Hierarchy edges as (child, parent): 'Is a' for conditions, 'RxNorm has ing' for the combination product.</summary>
    public static IReadOnlyList<(int Child, int Parent, string Relationship)> Edges { get; } = BuildEdges();

    public static IReadOnlyList<ConceptRelationshipRow> Relationships { get; } = BuildRelationships();

    public static IReadOnlyList<ConceptAncestorRow> Ancestors { get; } = BuildAncestors();

    public static IReadOnlyList<VocabularyRow> Vocabularies { get; } =
    [
        new("None", "OMOP Standardized Vocabularies", "OMOP generated", "", 0),
        new("SNOMED", "Systematic Nomenclature of Medicine - Clinical Terms (IHTSDO)", "http://www.snomed.org/", "subset", 0),
        new("LOINC", "Logical Observation Identifiers Names and Codes (Regenstrief Institute)", "http://loinc.org/", "subset", 0),
        new("RxNorm", "RxNorm (NLM)", "http://www.nlm.nih.gov/research/umls/rxnorm", "subset", 0),
        new("UCUM", "Unified Code for Units of Measure (Regenstrief Institute)", "http://aurora.regenstrief.org/~ucum/ucum.html", "subset", 0),
        new("Gender", "OMOP Gender", "OMOP generated", "", 0),
        new("Race", "Race and Ethnicity Code Set (USBC)", "http://www.cdc.gov/nchs/data/dvs/Race_Ethnicity_CodeSet.pdf", "", 0),
        new("Ethnicity", "OMOP Ethnicity", "OMOP generated", "", 0),
        new("Visit", "OMOP Visit", "OMOP generated", "", 0),
        new("Type Concept", "OMOP Type Concept", "OMOP generated", "", 0),
        new("Currency", "International Currency Symbol (ISO 4217)", "http://www.iso.org/iso/home/standards/currency_codes.htm", "", 0),
        new(Local, "RwePortal local concepts (ids 2,000,000,000+)", "db/vocabulary/README.md", "1", 0),
    ];

    public static IReadOnlyList<DomainRow> Domains { get; } =
    [
        new("Metadata", "Metadata", 0),
        new("Gender", "Gender", 2),
        new("Race", "Race", 5),
        new("Ethnicity", "Ethnicity", 4),
        new("Visit", "Visit", 8),
        new("Condition", "Condition", 19),
        new("Drug", "Drug", 13),
        new("Measurement", "Measurement", 21),
        new("Observation", "Observation", 27),
        new("Unit", "Unit", 16),
        new("Type Concept", "Type Concept", 58),
        new("Currency", "Currency", 0),
        new("Payer", "Payer", 0),
    ];

    public static IReadOnlyList<ConceptClassRow> ConceptClasses { get; } =
        Concepts.Select(c => c.ConceptClassId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(id => new ConceptClassRow(id, id, 0)).ToList();

    private static List<ConceptRow> BuildConcepts()
    {
        static ConceptRow S(int id, string name, string domain, string vocabulary, string conceptClass, string code) =>
            new(id, name, domain, vocabulary, conceptClass, "S", code);
        static ConceptRow Classification(int id, string name, string domain, string vocabulary, string conceptClass, string code) =>
            new(id, name, domain, vocabulary, conceptClass, "C", code);

        return
        [
            new(0, "No matching concept", "Metadata", "None", "Undefined", null, "No matching concept"),

            S(C.Male, "MALE", "Gender", "Gender", "Gender", "M"),
            S(C.Female, "FEMALE", "Gender", "Gender", "Gender", "F"),
            S(C.White, "White", "Race", "Race", "Race", "5"),
            S(C.BlackOrAfricanAmerican, "Black or African American", "Race", "Race", "Race", "3"),
            S(C.Asian, "Asian", "Race", "Race", "Race", "2"),
            S(C.HispanicOrLatino, "Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "Hispanic"),
            S(C.NotHispanicOrLatino, "Not Hispanic or Latino", "Ethnicity", "Ethnicity", "Ethnicity", "Not Hispanic"),

            S(C.InpatientVisit, "Inpatient Visit", "Visit", "Visit", "Visit", "IP"),
            S(C.OutpatientVisit, "Outpatient Visit", "Visit", "Visit", "Visit", "OP"),
            S(C.EmergencyRoomVisit, "Emergency Room Visit", "Visit", "Visit", "Visit", "ER"),
            S(C.TypeEhr, "EHR", "Type Concept", "Type Concept", "Type Concept", "EHR"),
            S(C.TypeClaim, "Claim", "Type Concept", "Type Concept", "Type Concept", "Claim"),
            S(C.TypePharmacyClaim, "Pharmacy claim", "Type Concept", "Type Concept", "Type Concept", "Pharmacy claim"),
            S(C.TypeLab, "Lab", "Type Concept", "Type Concept", "Type Concept", "Lab"),
            S(C.TypePatientFilledSurvey, "Patient filled survey", "Type Concept", "Type Concept", "Type Concept", "Patient filled survey"),
            S(C.UsDollar, "United States dollar", "Currency", "Currency", "Currency", "USD"),

            Classification(C.DisorderOfCardiovascularSystem, "Disorder of cardiovascular system", "Condition", Snomed, "Clinical Finding", "49601007"),
            S(C.HeartDisease, "Heart disease", "Condition", Snomed, "Clinical Finding", "56265001"),
            S(C.HeartFailure, "Heart failure", "Condition", Snomed, "Clinical Finding", "84114007"),
            S(C.CongestiveHeartFailure, "Congestive heart failure", "Condition", Snomed, "Clinical Finding", "42343007"),
            S(C.SystolicHeartFailure, "Systolic heart failure", "Condition", Snomed, "Clinical Finding", "417996009"),
            S(C.DiastolicHeartFailure, "Diastolic heart failure", "Condition", Snomed, "Clinical Finding", "418304008"),
            S(C.ChronicCongestiveHeartFailure, "Chronic congestive heart failure", "Condition", Local, "Clinical Finding", "RWE-C101"),
            S(C.ChronicSystolicHeartFailure, "Chronic systolic heart failure", "Condition", Local, "Clinical Finding", "RWE-C102"),
            S(C.AcuteOnChronicSystolicHeartFailure, "Acute on chronic systolic heart failure", "Condition", Local, "Clinical Finding", "RWE-C103"),
            S(C.HeartFailureReducedEf, "Heart failure with reduced ejection fraction", "Condition", Local, "Clinical Finding", "RWE-C104"),
            S(C.HeartFailurePreservedEf, "Heart failure with preserved ejection fraction", "Condition", Local, "Clinical Finding", "RWE-C105"),
            S(C.ChronicDiastolicHeartFailure, "Chronic diastolic heart failure", "Condition", Local, "Clinical Finding", "RWE-C106"),
            S(C.AcuteDecompensatedHeartFailure, "Acute decompensated heart failure", "Condition", Local, "Clinical Finding", "RWE-C107"),
            S(C.HeartFailureMildlyReducedEf, "Heart failure with mildly reduced ejection fraction", "Condition", Local, "Clinical Finding", "RWE-C108"),
            S(C.CardiacArrhythmia, "Cardiac arrhythmia", "Condition", Local, "Clinical Finding", "RWE-C110"),
            S(C.AtrialFibrillation, "Atrial fibrillation", "Condition", Snomed, "Clinical Finding", "49436004"),
            S(C.HypertensiveDisorder, "Hypertensive disorder", "Condition", Snomed, "Clinical Finding", "38341003"),
            S(C.EssentialHypertension, "Essential hypertension", "Condition", Snomed, "Clinical Finding", "59621000"),
            S(C.MyocardialInfarction, "Myocardial infarction", "Condition", Snomed, "Clinical Finding", "22298006"),
            S(C.AcuteMyocardialInfarction, "Acute myocardial infarction", "Condition", Snomed, "Clinical Finding", "57054005"),
            S(C.DiabetesMellitus, "Diabetes mellitus", "Condition", Snomed, "Clinical Finding", "73211009"),
            S(C.Type2DiabetesMellitus, "Type 2 diabetes mellitus", "Condition", Snomed, "Clinical Finding", "44054006"),
            S(C.ChronicKidneyDisease, "Chronic kidney disease", "Condition", Snomed, "Clinical Finding", "709044004"),
            S(C.ChronicKidneyDiseaseStage3, "Chronic kidney disease stage 3", "Condition", Local, "Clinical Finding", "RWE-C121"),
            S(C.ChronicKidneyDiseaseStage4, "Chronic kidney disease stage 4", "Condition", Local, "Clinical Finding", "RWE-C122"),
            S(C.ChronicKidneyDiseaseStage5, "Chronic kidney disease stage 5", "Condition", Local, "Clinical Finding", "RWE-C123"),
            Classification(C.DisorderOfRespiratorySystem, "Disorder of respiratory system", "Condition", Snomed, "Clinical Finding", "50043002"),
            S(C.ChronicObstructiveLungDisease, "Chronic obstructive lung disease", "Condition", Snomed, "Clinical Finding", "13645005"),
            S(C.Obesity, "Obesity", "Condition", Snomed, "Clinical Finding", "414916001"),
            S(C.Hyperlipidemia, "Hyperlipidemia", "Condition", Snomed, "Clinical Finding", "55822004"),
            S(C.DepressiveDisorder, "Depressive disorder", "Condition", Snomed, "Clinical Finding", "35489007"),
            S(C.TransthyretinAmyloidCardiomyopathy, "Transthyretin amyloid cardiomyopathy", "Condition", Local, "Clinical Finding", "RWE-C130"),
            S(C.IngrowingNail, "Ingrowing nail", "Condition", Snomed, "Clinical Finding", "139099"),
            S(C.ImpactedCerumen, "Impacted cerumen", "Condition", Snomed, "Clinical Finding", "374375"),
            S(C.HerpesZosterWithoutComplication, "Herpes zoster without complication", "Condition", Snomed, "Clinical Finding", "440329"),
            S(C.SprainOfAnkle, "Sprain of ankle", "Condition", Snomed, "Clinical Finding", "44465007"),
            S(C.OnychomycosisDueToDermatophyte, "Onychomycosis due to dermatophyte", "Condition", Snomed, "Clinical Finding", "140648"),
            S(C.AcquiredHalluxValgus, "Acquired hallux valgus", "Condition", Snomed, "Clinical Finding", "75911"),
            S(C.CalcanealSpur, "Calcaneal spur", "Condition", Snomed, "Clinical Finding", "73560"),
            S(C.SenileHyperkeratosis, "Senile hyperkeratosis", "Condition", Snomed, "Clinical Finding", "141932"),
            S(C.TearFilmInsufficiency, "Tear film insufficiency", "Condition", Snomed, "Clinical Finding", "378427"),

            S(C.SystolicBloodPressure, "Systolic blood pressure", "Measurement", Loinc, "Clinical Observation", "8480-6"),
            S(C.DiastolicBloodPressure, "Diastolic blood pressure", "Measurement", Loinc, "Clinical Observation", "8462-4"),
            S(C.HeartRate, "Heart rate", "Measurement", Loinc, "Clinical Observation", "8867-4"),
            S(C.BodyMassIndex, "Body mass index (BMI) [Ratio]", "Measurement", Loinc, "Clinical Observation", "39156-5"),
            S(C.BodyWeight, "Body weight", "Measurement", Loinc, "Clinical Observation", "29463-7"),
            S(C.HemoglobinA1c, "Hemoglobin A1c/Hemoglobin.total in Blood", "Measurement", Loinc, "Lab Test", "4548-4"),
            S(C.Creatinine, "Creatinine [Mass/volume] in Serum or Plasma", "Measurement", Loinc, "Lab Test", "2160-0"),
            S(C.LeftVentricularEjectionFraction, "Left ventricular Ejection fraction", "Measurement", Local, "Clinical Observation", "10230-1"),
            S(C.NtProBnp, "Natriuretic peptide.B prohormone N-Terminal [Mass/volume] in Serum or Plasma", "Measurement", Local, "Lab Test", "33762-6"),
            S(C.EstimatedGfr, "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)", "Measurement", Local, "Lab Test", "98979-8"),

            S(C.UnitPercent, "percent", "Unit", "UCUM", "Unit", "%"),
            S(C.UnitMillimeterMercury, "millimeter mercury column", "Unit", "UCUM", "Unit", "mm[Hg]"),
            S(C.UnitMilligramPerDeciliter, "milligram per deciliter", "Unit", "UCUM", "Unit", "mg/dL"),
            S(C.UnitPicogramPerMilliliter, "picogram per milliliter", "Unit", "UCUM", "Unit", "pg/mL"),
            S(C.UnitPerMinute, "per minute", "Unit", "UCUM", "Unit", "/min"),
            S(C.UnitKilogram, "kilogram", "Unit", "UCUM", "Unit", "kg"),
            S(C.UnitKilogramPerSquareMeter, "kilogram per square meter", "Unit", "UCUM", "Unit", "kg/m2"),
            S(C.UnitMlPerMinPer173M2, "milliliter per minute per 1.73 square meter", "Unit", Local, "Unit", "mL/min/{1.73_m2}"),
            S(C.UnitScore, "score", "Unit", Local, "Unit", "{score}"),

            S(C.Enalapril, "enalapril", "Drug", RxNorm, "Ingredient", "3827"),
            S(C.Lisinopril, "lisinopril", "Drug", RxNorm, "Ingredient", "29046"),
            S(C.Valsartan, "valsartan", "Drug", RxNorm, "Ingredient", "69749"),
            S(C.Losartan, "losartan", "Drug", RxNorm, "Ingredient", "52175"),
            S(C.Sacubitril, "sacubitril", "Drug", Local, "Ingredient", "1656328"),
            S(C.SacubitrilValsartan, "sacubitril / valsartan Oral Tablet", "Drug", Local, "Clinical Drug Form", "RWE-D402"),
            S(C.Carvedilol, "carvedilol", "Drug", RxNorm, "Ingredient", "20352"),
            S(C.Metoprolol, "metoprolol", "Drug", RxNorm, "Ingredient", "6918"),
            S(C.Bisoprolol, "bisoprolol", "Drug", RxNorm, "Ingredient", "19484"),
            S(C.Furosemide, "furosemide", "Drug", RxNorm, "Ingredient", "4603"),
            S(C.Spironolactone, "spironolactone", "Drug", RxNorm, "Ingredient", "9997"),
            S(C.Eplerenone, "eplerenone", "Drug", RxNorm, "Ingredient", "298869"),
            S(C.Dapagliflozin, "dapagliflozin", "Drug", RxNorm, "Ingredient", "1488564"),
            S(C.Empagliflozin, "empagliflozin", "Drug", RxNorm, "Ingredient", "1545653"),
            S(C.Metformin, "metformin", "Drug", RxNorm, "Ingredient", "6809"),
            S(C.Atorvastatin, "atorvastatin", "Drug", RxNorm, "Ingredient", "83367"),
            S(C.Apixaban, "apixaban", "Drug", RxNorm, "Ingredient", "1364430"),
            S(C.Warfarin, "warfarin", "Drug", RxNorm, "Ingredient", "11289"),
            S(C.Amlodipine, "amlodipine", "Drug", RxNorm, "Ingredient", "17767"),
            S(C.Hydrochlorothiazide, "hydrochlorothiazide", "Drug", RxNorm, "Ingredient", "5487"),
            S(C.Digoxin, "digoxin", "Drug", RxNorm, "Ingredient", "3407"),

            S(C.KccqOverallSummaryScore, "Kansas City Cardiomyopathy Questionnaire-12 overall summary score", "Observation", Local, "Survey", "KCCQ-12-OSS"),
            S(C.Phq9TotalScore, "Patient Health Questionnaire 9 item (PHQ-9) total score", "Observation", Local, "Survey", "44261-6"),

            S(C.Drg291HeartFailureWithMcc, "MS-DRG 291 Heart failure and shock with MCC", "Observation", Local, "MS-DRG", "291"),
            S(C.Drg292HeartFailureWithCc, "MS-DRG 292 Heart failure and shock with CC", "Observation", Local, "MS-DRG", "292"),
            S(C.Drg293HeartFailureWithoutCcMcc, "MS-DRG 293 Heart failure and shock without CC/MCC", "Observation", Local, "MS-DRG", "293"),
            S(C.Drg190CopdWithMcc, "MS-DRG 190 Chronic obstructive pulmonary disease with MCC", "Observation", Local, "MS-DRG", "190"),
            S(C.Drg308ArrhythmiaWithMcc, "MS-DRG 308 Cardiac arrhythmia and conduction disorders with MCC", "Observation", Local, "MS-DRG", "308"),
            S(C.Drg683RenalFailureWithCc, "MS-DRG 683 Renal failure with CC", "Observation", Local, "MS-DRG", "683"),
            S(C.Drg194PneumoniaWithCc, "MS-DRG 194 Simple pneumonia and pleurisy with CC", "Observation", Local, "MS-DRG", "194"),

            S(C.PayerMedicare, "Medicare", "Payer", Local, "Payer", "MEDICARE"),
            S(C.PayerCommercial, "Commercial insurance", "Payer", Local, "Payer", "COMMERCIAL"),
            S(C.PayerMedicaid, "Medicaid", "Payer", Local, "Payer", "MEDICAID"),

            .. Synthetic.BackgroundConditions.All.Select(b =>
                S(b.ConceptId, b.Name, "Condition", Local, "Clinical Finding", $"RWE-B{b.ConceptId - Synthetic.BackgroundConditions.FirstConceptId + 1:000}")),
        ];
    }

    private static List<(int Child, int Parent, string Relationship)> BuildEdges()
    {
        const string IsA = "Is a";
        return
        [
            (C.HeartDisease, C.DisorderOfCardiovascularSystem, IsA),
            (C.HeartFailure, C.HeartDisease, IsA),
            (C.CongestiveHeartFailure, C.HeartFailure, IsA),
            (C.ChronicCongestiveHeartFailure, C.CongestiveHeartFailure, IsA),
            (C.SystolicHeartFailure, C.HeartFailure, IsA),
            (C.ChronicSystolicHeartFailure, C.SystolicHeartFailure, IsA),
            (C.ChronicSystolicHeartFailure, C.ChronicCongestiveHeartFailure, IsA),
            (C.AcuteOnChronicSystolicHeartFailure, C.ChronicSystolicHeartFailure, IsA),
            (C.AcuteOnChronicSystolicHeartFailure, C.AcuteDecompensatedHeartFailure, IsA),
            (C.HeartFailureReducedEf, C.SystolicHeartFailure, IsA),
            (C.HeartFailureMildlyReducedEf, C.HeartFailure, IsA),
            (C.DiastolicHeartFailure, C.HeartFailure, IsA),
            (C.ChronicDiastolicHeartFailure, C.DiastolicHeartFailure, IsA),
            (C.ChronicDiastolicHeartFailure, C.ChronicCongestiveHeartFailure, IsA),
            (C.HeartFailurePreservedEf, C.DiastolicHeartFailure, IsA),
            (C.AcuteDecompensatedHeartFailure, C.HeartFailure, IsA),
            (C.TransthyretinAmyloidCardiomyopathy, C.HeartDisease, IsA),
            (C.CardiacArrhythmia, C.HeartDisease, IsA),
            (C.AtrialFibrillation, C.CardiacArrhythmia, IsA),
            (C.MyocardialInfarction, C.HeartDisease, IsA),
            (C.AcuteMyocardialInfarction, C.MyocardialInfarction, IsA),
            (C.HypertensiveDisorder, C.DisorderOfCardiovascularSystem, IsA),
            (C.EssentialHypertension, C.HypertensiveDisorder, IsA),
            (C.Type2DiabetesMellitus, C.DiabetesMellitus, IsA),
            (C.ChronicKidneyDiseaseStage3, C.ChronicKidneyDisease, IsA),
            (C.ChronicKidneyDiseaseStage4, C.ChronicKidneyDisease, IsA),
            (C.ChronicKidneyDiseaseStage5, C.ChronicKidneyDisease, IsA),
            (C.ChronicObstructiveLungDisease, C.DisorderOfRespiratorySystem, IsA),
            (C.SacubitrilValsartan, C.Sacubitril, "RxNorm has ing"),
            (C.SacubitrilValsartan, C.Valsartan, "RxNorm has ing"),
        ];
    }

    private static List<ConceptRelationshipRow> BuildRelationships()
    {
        var rows = new List<ConceptRelationshipRow>();
        foreach (var concept in Concepts.Where(c => c.StandardConcept == "S"))
        {
            rows.Add(new(concept.ConceptId, concept.ConceptId, "Maps to"));
            rows.Add(new(concept.ConceptId, concept.ConceptId, "Mapped from"));
        }

        foreach (var (child, parent, relationship) in Edges)
        {
            rows.Add(new(child, parent, relationship));
            rows.Add(new(parent, child, relationship == "Is a" ? "Subsumes" : "RxNorm ing of"));
        }

        return rows.OrderBy(r => r.ConceptId1).ThenBy(r => r.ConceptId2).ThenBy(r => r.RelationshipId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Transitive closure of <see cref="Edges"/> with the shortest and longest path length per pair.</summary>
    private static List<ConceptAncestorRow> BuildAncestors()
    {
        var parents = Edges.GroupBy(e => e.Child).ToDictionary(g => g.Key, g => g.Select(e => e.Parent).ToList());
        var rows = new List<ConceptAncestorRow>();
        foreach (var concept in Concepts.Where(c => c.StandardConcept is not null && c.ConceptId != 0))
        {
            // Longest and shortest distance to every ancestor, by walking up the (acyclic) hierarchy.
            var min = new Dictionary<int, int> { [concept.ConceptId] = 0 };
            var max = new Dictionary<int, int> { [concept.ConceptId] = 0 };
            var frontier = new List<(int Id, int Depth)> { (concept.ConceptId, 0) };
            while (frontier.Count > 0)
            {
                var next = new List<(int Id, int Depth)>();
                foreach (var (id, depth) in frontier)
                {
                    if (!parents.TryGetValue(id, out var ups))
                    {
                        continue;
                    }

                    foreach (var up in ups)
                    {
                        var d = depth + 1;
                        min[up] = min.TryGetValue(up, out var m) ? Math.Min(m, d) : d;
                        max[up] = max.TryGetValue(up, out var x) ? Math.Max(x, d) : d;
                        next.Add((up, d));
                    }
                }

                frontier = next;
            }

            rows.AddRange(min.Keys.Select(a => new ConceptAncestorRow(a, concept.ConceptId, min[a], max[a])));
        }

        return rows.OrderBy(r => r.AncestorConceptId).ThenBy(r => r.DescendantConceptId).ToList();
    }
}
