using System.Globalization;
using System.Runtime.InteropServices;
using Dapper;
using Npgsql;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Analyses;

/// <summary>
/// Extracts the baseline covariates of a study population in FeatureExtraction's sparse form, from every modality, in
/// windows that end at most the day before each person's time zero (docs/covariates.md). One statement over an open
/// connection of the read-only warehouse role, in a read-only transaction (from <see cref="ParallelFromPersons"/> persons
/// its parts are split over that connection and a clone of it reading the same exported snapshot, decision 1101); the population is passed as arrays and
/// joined to the consent filter for the settings' purpose. Binary covariates present in too few persons are dropped,
/// continuous ones (latest measurement, PRO, genomic score percentile, wearable means) are mean-imputed with a missing
/// indicator, and the set is capped.
/// </summary>
public static partial class CovariateExtractor
{
    /// <summary>Seconds the statement may run.</summary>
    public const int CommandTimeoutSeconds = 600;

    private readonly record struct Key(int Part, int Sub, long K, long K2, string T);

    private sealed class Builder(Key key)
    {
        public Key Key { get; } = key;

        public List<int> Rows { get; } = [];

        public List<double> Values { get; } = [];

        public string Name { get; set; } = "";

        public string Group { get; set; } = "";

        public bool Binary { get; set; } = true;

        public long? ConceptId { get; set; }

        /// <summary>Continuous with mean imputation: the missing indicator built beside it.</summary>
        public bool Impute { get; set; }

        public void Add(int row, double value)
        {
            Rows.Add(row);
            Values.Add(value);
        }
    }

    /// <param name="reader">An open connection of the read-only warehouse role, with no transaction in progress (one is begun here).</param>
    /// <param name="schemaName">The source's schema name from the registry (validated again).</param>
    /// <param name="persons">The population in row order; a person may appear more than once, each entry with its time zero.</param>
    /// <param name="settings">The specs, the consent (source and purpose) and the filters.</param>
    /// <param name="ct">Cancels the statement.</param>
    public static Task<CovariateData> ExtractAsync(
        NpgsqlConnection reader, string schemaName, IReadOnlyList<StudyPerson> persons, CovariateSettings settings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(persons);
        return ExtractAsync(reader, schemaName, persons, settings, persons.Count >= ParallelFromPersons ? 2 : 1, ct);
    }

    /// <summary>The same over <paramref name="ways"/> connections (1 or 2) sharing one snapshot.</summary>
    internal static async Task<CovariateData> ExtractAsync(
        NpgsqlConnection reader, string schemaName, IReadOnlyList<StudyPerson> persons, CovariateSettings settings, int ways, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfLessThan(ways, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ways, 2);
        var compiled = CovariateStatement.Compile(schemaName, persons, settings);
        DynamicParameters Parameters()
        {
            var parameters = new DynamicParameters();
            foreach (var parameter in compiled.Parameters)
            {
                parameters.Add(parameter.Name, parameter.Value);
            }

            return parameters;
        }

        var parts = compiled.Parts.ToDictionary(p => p.Index);
        var names = new Dictionary<long, string>();
        var groups = Split(compiled.Parts, ways);
        var streams = groups.Select(_ => new Stream()).ToArray();

        await using (var transaction = await reader.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct))
        {
            await reader.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY", transaction: transaction, cancellationToken: ct));
            if (groups.Count == 1)
            {
                await ReadAsync(reader, transaction, compiled.Sql, Parameters(), streams[0], parts, persons, ct);
            }
            else
            {
                // A second reader connection sees exactly the first one's snapshot (pg_export_snapshot): both halves of the
                // statement read the same database state, as the single statement did, each on its own backend and core.
                var snapshot = await reader.ExecuteScalarAsync<string>(new CommandDefinition("SELECT pg_export_snapshot()", transaction: transaction, cancellationToken: ct));
                if (snapshot is null || !SnapshotId().IsMatch(snapshot))
                {
                    throw new InvalidOperationException($"unexpected snapshot identifier '{snapshot}'");
                }

                await using var second = (NpgsqlConnection)((ICloneable)reader).Clone();
                await second.OpenAsync(ct);
                await using var secondTransaction = await second.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);

                // SET TRANSACTION SNAPSHOT takes no parameter; the identifier is the server's own, checked above.
                await second.ExecuteAsync(new CommandDefinition($"SET TRANSACTION SNAPSHOT '{snapshot}'", transaction: secondTransaction, cancellationToken: ct));
                await second.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY", transaction: secondTransaction, cancellationToken: ct));
                await Task.WhenAll(
                    Task.Run(() => ReadAsync(reader, transaction, compiled.SqlOf(groups[0]), Parameters(), streams[0], parts, persons, ct), ct),
                    Task.Run(() => ReadAsync(second, secondTransaction, compiled.SqlOf(groups[1]), Parameters(), streams[1], parts, persons, ct), ct));
                await secondTransaction.CommitAsync(ct);
            }

            // Names of the concepts the covariates name, in the same read-only transaction.
            var ids = streams.SelectMany(x => x.Builders.Values).Where(b => parts[b.Key.Part].Kind is not (PartKind.Variants or PartKind.GenomicScores or PartKind.Wearables))
                .SelectMany(b => new[] { b.Key.K, b.Key.K2 })
                .Concat(compiled.Parts.SelectMany(p => p.Items).Select(i => (long)i.Id))
                .Where(id => id > 0 && id <= int.MaxValue).Distinct().ToArray();
            foreach (var (id, name) in await reader.QueryAsync<(long, string)>(new CommandDefinition(
                CovariateStatement.NamesSql(schemaName), new { ids }, transaction, CommandTimeoutSeconds, cancellationToken: ct)))
            {
                names[id] = name;
            }

            await transaction.CommitAsync(ct);
        }

        // The parts are disjoint between the streams, so are their builders; the consented rows come from the first.
        var builders = new Dictionary<Key, Builder>();
        var consented = new List<int>();
        var charlson = new Dictionary<int, HashSet<int>>();
        foreach (var stream in streams)
        {
            foreach (var (key, builder) in stream.Builders)
            {
                builders.Add(key, builder);
            }

            consented.AddRange(stream.Consented);
            foreach (var (r, categories) in stream.Charlson)
            {
                charlson.Add(r, categories);
            }
        }

        Builder At(Key key)
        {
            if (!builders.TryGetValue(key, out var builder))
            {
                builder = new Builder(key);
                builders.Add(key, builder);
            }

            return builder;
        }

        foreach (var part in compiled.Parts.Where(p => p.Kind == PartKind.Charlson))
        {
            var index = At(new Key(part.Index, 0, 0, 0, ""));
            foreach (var (r, categories) in charlson.OrderBy(c => c.Key))
            {
                var score = CharlsonIndex.Score(categories);
                if (score > 0)
                {
                    index.Add(r, score);
                }
            }
        }

        foreach (var builder in builders.Values)
        {
            Describe(builder, parts[builder.Key.Part], names);
        }

        return Assemble(builders.Values, consented, settings);
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9A-F]+(-[0-9A-F]+)+$")]
    private static partial System.Text.RegularExpressions.Regex SnapshotId();

    /// <summary>Populations at least this large read their covariates over two connections (decision 1101).</summary>
    public const int ParallelFromPersons = 5_000;

    /// <summary>What one connection's rows build: covariates by key, consented rows, Charlson categories by row.</summary>
    private sealed class Stream
    {
        public Dictionary<Key, Builder> Builders { get; } = [];

        public List<int> Consented { get; } = [];

        public Dictionary<int, HashSet<int>> Charlson { get; } = [];

        public Builder At(Key key)
        {
            if (!Builders.TryGetValue(key, out var builder))
            {
                builder = new Builder(key);
                Builders.Add(key, builder);
            }

            return builder;
        }
    }

    /// <summary>
    /// The parts dealt to <paramref name="ways"/> statements, heaviest first to the lightest statement, by the backend
    /// CPU each kind of part took at 100,000 persons (docs/benchmarks.md "Covariates"); the consented rows (part 0) go
    /// with the first. Deterministic: the same settings always give the same split.
    /// </summary>
    internal static IReadOnlyList<IReadOnlySet<int>> Split(IReadOnlyList<CovariatePart> parts, int ways)
    {
        var groups = Enumerable.Range(0, ways).Select(_ => new HashSet<int>()).ToArray();
        var load = new double[ways];
        groups[0].Add(0);
        load[0] = 0.2;
        foreach (var part in parts.OrderByDescending(Cost).ThenBy(p => p.Index))
        {
            var lightest = Array.IndexOf(load, load.Min());
            groups[lightest].Add(part.Index);
            load[lightest] += Cost(part);
        }

        return [.. groups.Where(g => g.Count > 0)];
    }

    private static double Cost(CovariatePart part) => part.Kind switch
    {
        PartKind.Claims => 1.7,
        PartKind.Events or PartKind.EventItems => part.Events!.Table switch
        {
            "condition_occurrence" => 1.0,
            "drug_exposure" => 0.55,
            "visit_occurrence" => 0.4,
            _ => 0.2,
        },
        PartKind.Charlson => 0.45,
        PartKind.Latest or PartKind.LatestItems => 0.7,
        PartKind.Wearables => 0.7,
        PartKind.Demographics => 0.3,
        _ => 0.2,
    };

    /// <summary>Reads one statement's rows into <paramref name="stream"/>.</summary>
    private static async Task ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, DynamicParameters parameters, Stream stream,
        Dictionary<int, CovariatePart> parts, IReadOnlyList<StudyPerson> persons, CancellationToken ct)
    {
        await using var rows = await connection.ExecuteReaderAsync(new CommandDefinition(sql, parameters, transaction, CommandTimeoutSeconds, cancellationToken: ct));
        var at = stream.At;
        var consented = stream.Consented;
        var charlson = stream.Charlson;
        while (await rows.ReadAsync(ct))
        {
            var partIndex = rows.GetInt32(0);
            var r = rows.GetInt32(1);
            if (partIndex == 0)
            {
                consented.Add(r);
                continue;
            }

            var part = parts[partIndex];
            var k = rows.IsDBNull(2) ? 0 : rows.GetInt64(2);
            var k2 = rows.IsDBNull(3) ? 0 : rows.GetInt64(3);
            var t = rows.IsDBNull(4) ? "" : rows.GetString(4);
            var v = rows.IsDBNull(5) ? 0 : rows.GetDouble(5);
            switch (part.Kind)
            {
                case PartKind.Demographics:
                    if (k2 == 1)
                    {
                        var age = (int)v;
                        var tz = persons[r].TimeZero;
                        if (k != 0)
                        {
                            at(new Key(partIndex, 0, k, 0, "")).Add(r, 1);
                        }

                        at(new Key(partIndex, 1, age / 5, 0, "")).Add(r, 1);
                        at(new Key(partIndex, 2, tz.Year, 0, "")).Add(r, 1);
                        at(new Key(partIndex, 3, tz.Month, 0, "")).Add(r, 1);
                        at(new Key(partIndex, 4, 0, 0, "")).Add(r, age);
                    }
                    else if (k != 0)
                    {
                        at(new Key(partIndex, k2 == 2 ? 5 : 6, k, 0, "")).Add(r, 1);
                    }

                    break;
                case PartKind.Events:
                    for (var w = 0; w < part.Windows.Count; w++)
                    {
                        if (v >= part.Windows[w].Start && v <= part.Windows[w].End)
                        {
                            at(new Key(partIndex, (int)(k2 * 100) + w, k, 0, "")).Add(r, 1);
                        }
                    }

                    break;
                case PartKind.EventItems or PartKind.Variants:
                    at(new Key(partIndex, 0, k, 0, t)).Add(r, 1);
                    break;
                case PartKind.Latest or PartKind.LatestItems or PartKind.GenomicScores:
                    at(new Key(partIndex, 0, k, k2, t)).Add(r, v);
                    break;
                case PartKind.Wearables or PartKind.Claims:
                    at(new Key(partIndex, (int)k2, k, 0, "")).Add(r, v);
                    break;
                case PartKind.Charlson:
                    if (!charlson.TryGetValue(r, out var categories))
                    {
                        categories = [];
                        charlson.Add(r, categories);
                    }

                    categories.Add((int)k);
                    break;
                default:
                    throw new InvalidOperationException(part.Kind.ToString());
            }
        }
    }

    private static string ConceptName(Dictionary<long, string> names, long id) =>
        names.TryGetValue(id, out var name) ? string.Create(CultureInfo.InvariantCulture, $"{name} [{id}]") : string.Create(CultureInfo.InvariantCulture, $"concept {id}");

    private static void Describe(Builder b, CovariatePart part, Dictionary<long, string> names)
    {
        var spec = part.Spec.Name;
        var key = b.Key;
        void Set(string analysis, string name, bool binary = true, long? concept = null, bool impute = false)
        {
            b.Group = spec + CovariateGroups.Separator + analysis;
            b.Name = name;
            b.Binary = binary;
            b.ConceptId = concept;
            b.Impute = impute;
        }

        var range = part.Range.Describe;
        switch (part.Kind)
        {
            case PartKind.Demographics:
                switch (key.Sub)
                {
                    case 0: Set("gender", "gender: " + ConceptName(names, key.K), concept: key.K); break;
                    case 1: Set("age group", string.Create(CultureInfo.InvariantCulture, $"age group: {key.K * 5}-{(key.K * 5) + 4}")); break;
                    case 2: Set("index year", string.Create(CultureInfo.InvariantCulture, $"index year: {key.K}")); break;
                    case 3: Set("index month", string.Create(CultureInfo.InvariantCulture, $"index month: {key.K}")); break;
                    case 4: Set("age", "age in years at time zero", binary: false); break;
                    case 5: Set("race", "race: " + ConceptName(names, key.K), concept: key.K); break;
                    default: Set("ethnicity", "ethnicity: " + ConceptName(names, key.K), concept: key.K); break;
                }

                break;
            case PartKind.Events:
            {
                var window = part.Windows[key.Sub % 100];
                var label = part.Events!.Label + (key.Sub >= 100 ? " group" : "");
                Set(label + " " + window.Label, $"{label}: {ConceptName(names, key.K)}, {window.Describe}", concept: key.K);
                break;
            }

            case PartKind.EventItems:
            {
                var item = part.Items.Where(i => !i.Exclude).ElementAt((int)key.K - 1);
                Set(part.Events!.Label + " " + part.Range.Label,
                    $"{part.Events.Label}: {ConceptName(names, item.Id)}{(item.Descendants ? " or a descendant" : "")}, {range}", concept: item.Id);
                break;
            }

            case PartKind.Latest or PartKind.LatestItems:
            {
                var what = part.Spec.Modality == CovariateModality.Pro ? "pro" : "measurement";
                var concept = part.Kind == PartKind.LatestItems ? part.Items.Where(i => !i.Exclude).ElementAt((int)key.K - 1).Id : key.K;
                var unit = key.K2 == 0 ? "" : " (" + (names.TryGetValue(key.K2, out var u) ? u : "unit " + key.K2.ToString(CultureInfo.InvariantCulture)) + ")";
                Set(what + " latest", $"{what}: {ConceptName(names, concept)}{unit}, latest value {range}", binary: false, concept: concept, impute: true);
                break;
            }

            case PartKind.Variants:
            {
                var at = key.T.IndexOf('/', StringComparison.Ordinal);
                Set("variant carrier", $"variant carrier: {key.T[..at]} {key.T[(at + 1)..].Replace('_', ' ')}");
                break;
            }

            case PartKind.GenomicScores:
            {
                var at = key.T.IndexOf('\u001f', StringComparison.Ordinal);
                Set("genomic score", $"genomic score percentile: {key.T[(at + 1)..]} ({key.T[..at]})", binary: false, impute: true);
                break;
            }

            case PartKind.Wearables:
                switch (key.Sub)
                {
                    case 1: Set("wearable", $"wearable: days worn, {range}", binary: false); break;
                    case 2: Set("wearable", $"wearable: mean daily steps, {range}", binary: false, impute: true); break;
                    default: Set("wearable", $"wearable: mean resting heart rate, {range}", binary: false, impute: true); break;
                }

                break;
            case PartKind.Claims:
                if (key.Sub == 1)
                {
                    Set("claims", $"claims: total paid (visits and dispensings), {range}", binary: false);
                }
                else
                {
                    Set("claims", $"claims: visits of type {ConceptName(names, key.K)}, {range}", binary: false, concept: key.K);
                }

                break;
            case PartKind.Charlson:
                Set("charlson index", "Charlson comorbidity index (Romano adaptation), any time before time zero", binary: false);
                break;
            default:
                throw new InvalidOperationException(part.Kind.ToString());
        }
    }

    private static CovariateData Assemble(IEnumerable<Builder> all, List<int> consented, CovariateSettings settings)
    {
        var threshold = settings.RareThreshold(consented.Count);
        consented.Sort();
        var kept = new List<Builder>();
        foreach (var b in all.OrderBy(b => b.Key.Part).ThenBy(b => b.Key.Sub).ThenBy(b => b.Key.K).ThenBy(b => b.Key.K2).ThenBy(b => b.Key.T, StringComparer.Ordinal))
        {
            // Rare: a binary covariate, or a continuous one that is imputed (observed in few persons), seen in too few persons.
            if ((b.Binary || b.Impute) && b.Rows.Count < threshold)
            {
                continue;
            }

            kept.Add(b);
            if (b.Impute)
            {
                var mean = b.Values.Average();
                var observed = b.Rows.ToHashSet();
                var missing = new Builder(b.Key with { Sub = b.Key.Sub + 1_000_000 })
                {
                    Group = b.Group + " missing",
                    Name = b.Name + ": missing",
                    Binary = true,
                    ConceptId = b.ConceptId,
                };
                foreach (var r in consented.Where(r => !observed.Contains(r)))
                {
                    b.Add(r, mean);
                    missing.Add(r, 1);
                }

                // The indicator is a binary covariate like any other: kept when at least the threshold of persons miss the value.
                if (missing.Rows.Count >= Math.Max(1, threshold))
                {
                    kept.Add(missing);
                }
            }
        }

        // The cap: continuous covariates and indicators stay; binary ones by prevalence (then their order) up to the cap.
        if (kept.Count > settings.MaxCovariates)
        {
            var order = kept.Select((b, i) => (b, i)).ToList();
            var keep = order.Where(x => !x.b.Binary || x.b.Key.Sub >= 1_000_000).Select(x => x.i).ToHashSet();
            foreach (var (_, i) in order.Where(x => !keep.Contains(x.i)).OrderByDescending(x => x.b.Rows.Count).ThenBy(x => x.i))
            {
                if (keep.Count >= settings.MaxCovariates)
                {
                    break;
                }

                keep.Add(i);
            }

            kept = order.Where(x => keep.Contains(x.i)).Select(x => x.b).ToList();
        }

        var refs = new List<CovariateRef>(kept.Count);
        var total = kept.Sum(b => b.Rows.Count);
        var rows = new int[total];
        var covariates = new int[total];
        var values = new double[total];
        var at = 0;
        foreach (var b in kept)
        {
            var id = refs.Count;
            refs.Add(new CovariateRef(id, b.Name, b.Group, b.Binary, b.ConceptId));
            // One entry per row and covariate: sort the covariate's rows (with their values) and copy them in.
            var rowSpan = CollectionsMarshal.AsSpan(b.Rows);
            var valueSpan = CollectionsMarshal.AsSpan(b.Values);
            rowSpan.Sort(valueSpan);
            rowSpan.CopyTo(rows.AsSpan(at));
            valueSpan.CopyTo(values.AsSpan(at));
            covariates.AsSpan(at, rowSpan.Length).Fill(id);
            at += rowSpan.Length;
        }

        return new CovariateData(refs, rows, covariates, values);
    }
}
