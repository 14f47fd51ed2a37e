namespace RwePortal.Warehouse.Synthetic;

/// <summary>A chronic condition of the background history: local concept, name, and the share of persons who have it.</summary>
/// <param name="ConceptId">Local concept id (vocabulary RwePortal, 2,000,001,001 and up).</param>
/// <param name="Name">Concept name as the vocabulary subset holds it.</param>
/// <param name="Share">Share of persons with a record of it during their observation.</param>
public sealed record BackgroundCondition(int ConceptId, string Name, double Share);

/// <summary>
/// The background history of the synthetic population (docs/synthetic-data-model.md, "Background history"): common
/// chronic conditions of older adults, recorded at onset and again at yearly reviews, independent of everything else
/// the generator draws — of the treatment, the outcome and the confounders — so they change no estimand. They give the
/// large-scale covariate sets the width a real claims source has (hundreds of covariates instead of the few dozen the
/// heart-failure model needs). Drawn from a random stream of their own after every other row of the person exists:
/// no earlier draw or row id changes.
/// </summary>
public static class BackgroundConditions
{
    /// <summary>The person's random stream for these conditions (negative, apart from every other stream).</summary>
    public const int Stream = -0x4247;

    /// <summary>The first local id of these concepts.</summary>
    public const int FirstConceptId = 2_000_001_001;

    /// <summary>Chance of a repeat record at each yearly review after onset.</summary>
    public const double YearlyReviewShare = 0.6;

    /// <summary>Yearly reviews drawn per condition (every condition draws the same numbers, present or not).</summary>
    public const int MaxReviews = 8;

    private static readonly (string Name, double Share)[] Table =
    [
        ("Osteoarthritis of knee", 0.18), ("Osteoarthritis of hip", 0.10), ("Gout", 0.08), ("Hypothyroidism", 0.12),
        ("Anemia", 0.15), ("Gastroesophageal reflux disease", 0.17), ("Anxiety disorder", 0.09), ("Insomnia", 0.08),
        ("Obstructive sleep apnea", 0.11), ("Asthma", 0.07), ("Allergic rhinitis", 0.08), ("Low back pain", 0.16),
        ("Migraine", 0.04), ("Glaucoma", 0.06), ("Cataract", 0.14), ("Benign prostatic hyperplasia", 0.10),
        ("Osteoporosis", 0.09), ("Psoriasis", 0.03), ("Rheumatoid arthritis", 0.03), ("Peripheral neuropathy", 0.07),
        ("Peripheral arterial disease", 0.06), ("Varicose veins of lower extremity", 0.05), ("Hemorrhoids", 0.05),
        ("Diverticulosis of colon", 0.07), ("Irritable bowel syndrome", 0.03), ("Constipation", 0.09),
        ("Urinary incontinence", 0.08), ("Urinary tract infection", 0.10), ("Hearing loss", 0.12), ("Tinnitus", 0.04),
        ("Age-related macular degeneration", 0.04), ("Dry eye syndrome", 0.05), ("Chronic sinusitis", 0.04),
        ("Hyperuricemia", 0.05), ("Vitamin D deficiency", 0.10), ("Vitamin B12 deficiency", 0.04),
        ("Iron deficiency", 0.06), ("Hypokalemia", 0.05), ("Hyponatremia", 0.04), ("Hyperkalemia", 0.04),
        ("Thrombocytopenia", 0.02), ("Leukopenia", 0.015), ("Chronic pain syndrome", 0.05), ("Fibromyalgia", 0.02),
        ("Carpal tunnel syndrome", 0.03), ("Plantar fasciitis", 0.02), ("Rotator cuff syndrome", 0.03),
        ("Spinal stenosis", 0.05), ("Degenerative disc disease", 0.06), ("Cervical spondylosis", 0.04),
        ("Actinic keratosis", 0.05), ("Seborrheic keratosis", 0.04), ("Basal cell carcinoma of skin", 0.02),
        ("Cellulitis", 0.04), ("Pneumonia", 0.06), ("Acute bronchitis", 0.05), ("Influenza", 0.03),
        ("Dementia", 0.05), ("Mild cognitive impairment", 0.04), ("Parkinson's disease", 0.01),
        ("Essential tremor", 0.015), ("Restless legs syndrome", 0.02), ("Transient ischemic attack", 0.03),
        ("Cerebral infarction", 0.04), ("Carotid artery stenosis", 0.03), ("Aortic valve stenosis", 0.04),
        ("Mitral valve regurgitation", 0.05), ("Pulmonary hypertension", 0.03), ("Deep venous thrombosis", 0.02),
        ("Pulmonary embolism", 0.015), ("Fatty liver", 0.04), ("Cholelithiasis", 0.03), ("Nephrolithiasis", 0.02),
        ("Prostate cancer", 0.02), ("Breast cancer", 0.015), ("Colon cancer", 0.01), ("Tobacco dependence", 0.08),
        ("Alcohol abuse", 0.03), ("Morbid obesity", 0.05), ("Prediabetes", 0.08),
    ];

    /// <summary>Every background condition, ids in table order.</summary>
    public static IReadOnlyList<BackgroundCondition> All { get; } =
        Table.Select((c, i) => new BackgroundCondition(FirstConceptId + i, c.Name, c.Share)).ToList();

    /// <summary>
    /// The person's background records in [<paramref name="observationStart"/>, <paramref name="observationEnd"/>): for each
    /// condition the person has, a record at onset (uniform over the observation) and at each yearly review that takes
    /// place. Depends only on (seed, person id) and the observation dates.
    /// </summary>
    public static IReadOnlyList<(int ConceptId, DateOnly Date)> Draw(long seed, long personId, DateOnly observationStart, DateOnly observationEnd)
    {
        var rng = new SyntheticRandom(seed, personId, Stream);
        var days = observationEnd.DayNumber - observationStart.DayNumber;
        var records = new List<(int, DateOnly)>();
        foreach (var condition in All)
        {
            var present = rng.Bernoulli(condition.Share);
            var onsetShare = rng.NextDouble();
            var reviews = new bool[MaxReviews];
            var jitter = new int[MaxReviews];
            for (var r = 0; r < MaxReviews; r++)
            {
                reviews[r] = rng.Bernoulli(YearlyReviewShare);
                jitter[r] = rng.Next(-30, 31);
            }

            if (!present || days <= 0)
            {
                continue;
            }

            var onset = observationStart.AddDays((int)(onsetShare * days));
            records.Add((condition.ConceptId, onset));
            for (var r = 0; r < MaxReviews; r++)
            {
                var review = onset.AddDays((365 * (r + 1)) + jitter[r]);
                if (review >= observationEnd)
                {
                    break;
                }

                if (reviews[r])
                {
                    records.Add((condition.ConceptId, review));
                }
            }
        }

        return records;
    }
}
