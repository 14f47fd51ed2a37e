namespace RwePortal.Warehouse.Vocabulary;

/// <summary>
/// Concept ids the synthetic generator and the ingesters write. Ids below 2,000,000,000 are standard OMOP ids;
/// ids from 2,000,000,000 up are local concepts (vocabulary_id 'RwePortal') used where the OMOP id was not known
/// with certainty. <see cref="VocabularySubset"/> defines every one of them with its name and hierarchy.
/// </summary>
public static class ConceptIds
{
    public const int LocalRangeStart = 2_000_000_000;

    // Demographics
    public const int Male = 8507;
    public const int Female = 8532;
    public const int White = 8527;
    public const int BlackOrAfricanAmerican = 8516;
    public const int Asian = 8515;
    public const int HispanicOrLatino = 38003563;
    public const int NotHispanicOrLatino = 38003564;

    // Visits and provenance
    public const int InpatientVisit = 9201;
    public const int OutpatientVisit = 9202;
    public const int EmergencyRoomVisit = 9203;
    public const int TypeEhr = 32817;
    public const int TypeClaim = 32810;
    public const int TypePharmacyClaim = 32869;
    public const int TypeLab = 32856;
    public const int TypePatientFilledSurvey = 32862;
    public const int UsDollar = 44818668;

    // Conditions (SNOMED) and the local heart-failure sub-types below them
    public const int DisorderOfCardiovascularSystem = 134057;
    public const int HeartDisease = 321588;
    public const int HeartFailure = 316139;
    public const int CongestiveHeartFailure = 319835;
    public const int SystolicHeartFailure = 443580;
    public const int DiastolicHeartFailure = 439694;
    public const int ChronicCongestiveHeartFailure = 2_000_000_101;
    public const int ChronicSystolicHeartFailure = 2_000_000_102;
    public const int AcuteOnChronicSystolicHeartFailure = 2_000_000_103;
    public const int HeartFailureReducedEf = 2_000_000_104;
    public const int HeartFailurePreservedEf = 2_000_000_105;
    public const int ChronicDiastolicHeartFailure = 2_000_000_106;
    public const int AcuteDecompensatedHeartFailure = 2_000_000_107;
    public const int HeartFailureMildlyReducedEf = 2_000_000_108;
    public const int CardiacArrhythmia = 2_000_000_110;
    public const int AtrialFibrillation = 313217;
    public const int HypertensiveDisorder = 316866;
    public const int EssentialHypertension = 320128;
    public const int MyocardialInfarction = 4329847;
    public const int AcuteMyocardialInfarction = 312327;
    public const int DiabetesMellitus = 201820;
    public const int Type2DiabetesMellitus = 201826;
    public const int ChronicKidneyDisease = 46271022;
    public const int ChronicKidneyDiseaseStage3 = 2_000_000_121;
    public const int ChronicKidneyDiseaseStage4 = 2_000_000_122;
    public const int ChronicKidneyDiseaseStage5 = 2_000_000_123;
    public const int DisorderOfRespiratorySystem = 320136;
    public const int ChronicObstructiveLungDisease = 255573;
    public const int Obesity = 433736;
    public const int Hyperlipidemia = 432867;
    public const int DepressiveDisorder = 440383;
    public const int TransthyretinAmyloidCardiomyopathy = 2_000_000_130;

    // Negative-control conditions (OHDSI's negative controls for ACE inhibitors; see NegativeControlConditions)
    public const int IngrowingNail = 139099;
    public const int ImpactedCerumen = 374375;
    public const int HerpesZosterWithoutComplication = 440329;
    public const int SprainOfAnkle = 81151;
    public const int OnychomycosisDueToDermatophyte = 140648;
    public const int AcquiredHalluxValgus = 75911;
    public const int CalcanealSpur = 73560;
    public const int SenileHyperkeratosis = 141932;
    public const int TearFilmInsufficiency = 378427;

    // Measurements (LOINC where known)
    public const int SystolicBloodPressure = 3004249;
    public const int DiastolicBloodPressure = 3012888;
    public const int HeartRate = 3027018;
    public const int BodyMassIndex = 3038553;
    public const int BodyWeight = 3025315;
    public const int HemoglobinA1c = 3004410;
    public const int Creatinine = 3016723;
    public const int LeftVentricularEjectionFraction = 2_000_000_201;
    public const int NtProBnp = 2_000_000_202;
    public const int EstimatedGfr = 2_000_000_203;

    // Units (UCUM)
    public const int UnitPercent = 8554;
    public const int UnitMillimeterMercury = 8876;
    public const int UnitMilligramPerDeciliter = 8840;
    public const int UnitPicogramPerMilliliter = 8845;
    public const int UnitPerMinute = 8541;
    public const int UnitKilogram = 9529;
    public const int UnitKilogramPerSquareMeter = 9531;
    public const int UnitMlPerMinPer173M2 = 2_000_000_301;
    public const int UnitScore = 2_000_000_302;

    // Drugs (RxNorm ingredients) and the local combination product
    public const int Enalapril = 1341927;
    public const int Lisinopril = 1308216;
    public const int Valsartan = 1308842;
    public const int Losartan = 1367500;
    public const int Sacubitril = 2_000_000_401;
    public const int SacubitrilValsartan = 2_000_000_402;
    public const int Carvedilol = 1346823;
    public const int Metoprolol = 1307046;
    public const int Bisoprolol = 1338005;
    public const int Furosemide = 956874;
    public const int Spironolactone = 970250;
    public const int Eplerenone = 1309799;
    public const int Dapagliflozin = 44785829;
    public const int Empagliflozin = 45774751;
    public const int Metformin = 1503297;
    public const int Atorvastatin = 1545958;
    public const int Apixaban = 43013024;
    public const int Warfarin = 1310149;
    public const int Amlodipine = 1332418;
    public const int Hydrochlorothiazide = 974166;
    public const int Digoxin = 1326303;

    // Patient-reported outcomes (local: the LOINC panel codes are kept as concept_code)
    public const int KccqOverallSummaryScore = 2_000_000_501;
    public const int Phq9TotalScore = 2_000_000_502;

    // MS-DRGs (local concepts; drg_source_value carries the 3-digit code)
    public const int Drg291HeartFailureWithMcc = 2_000_000_601;
    public const int Drg292HeartFailureWithCc = 2_000_000_602;
    public const int Drg293HeartFailureWithoutCcMcc = 2_000_000_603;
    public const int Drg190CopdWithMcc = 2_000_000_604;
    public const int Drg308ArrhythmiaWithMcc = 2_000_000_605;
    public const int Drg683RenalFailureWithCc = 2_000_000_606;
    public const int Drg194PneumoniaWithCc = 2_000_000_607;

    // Payers (local)
    public const int PayerMedicare = 2_000_000_701;
    public const int PayerCommercial = 2_000_000_702;
    public const int PayerMedicaid = 2_000_000_703;
}
