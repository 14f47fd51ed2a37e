using System.CommandLine;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using RwePortal.Warehouse.Ingest;

namespace RwePortal.Cli.Commands;

/// <summary>
/// <c>rwe ingest-vcf</c> and <c>rwe ingest-wearable</c>: real-format genomic and wearable files into a data source.
/// A file with bad rows is rejected as a whole: every problem is printed with its line number and nothing is written.
/// <c>rwe unpack</c> extracts the compressed sample exports the demo loads.
/// </summary>
internal static class IngestCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return IngestVcf();
        yield return IngestWearable();
        yield return Unpack();
    }

    /// <summary>`rwe unpack`: extracts a .tar, .tar.gz or .tar.br archive (sample exports ship compressed; no brotli tool needed).</summary>
    private static Command Unpack()
    {
        var archive = new Argument<FileInfo>("ARCHIVE") { Description = "A .tar, .tar.gz/.tgz or .tar.br file." };
        var target = new Option<DirectoryInfo>("--to") { Description = "Folder to extract into (created if missing).", Required = true };
        var command = new Command("unpack", "Extract a .tar, .tar.gz or .tar.br archive, e.g. a sample OMOP export before `rwe load-omop`.");
        command.Arguments.Add(archive);
        command.Options.Add(target);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var file = parseResult.GetValue(archive)!;
            var folder = parseResult.GetValue(target)!;
            if (!file.Exists)
            {
                await Console.Error.WriteLineAsync($"rwe: file '{file.FullName}' does not exist");
                return 1;
            }

            folder.Create();
            await using var input = file.OpenRead();
            await using Stream tar = file.Name.EndsWith(".br", StringComparison.OrdinalIgnoreCase)
                ? new BrotliStream(input, CompressionMode.Decompress)
                : file.Name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || file.Name.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
                    ? new GZipStream(input, CompressionMode.Decompress)
                    : input;
            try
            {
                await TarFile.ExtractToDirectoryAsync(tar, folder.FullName, overwriteFiles: true, cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
            {
                await Console.Error.WriteLineAsync($"rwe: cannot extract {file.Name}: {e.Message}");
                return 1;
            }

            await Console.Out.WriteLineAsync($"extracted {file.Name} into {folder.FullName}");
            return 0;
        });
        return command;
    }

    private static Command IngestVcf()
    {
        var source = new Option<string>("--source") { Description = "Data source whose persons the samples are (matched on person_source_value).", Required = true };
        var sampleDate = new Option<string?>("--sample-date") { Description = "Sample date (yyyy-MM-dd); default: the file's ##fileDate, else today." };
        var file = new Argument<string>("FILE") { Description = "VCF 4.x file, one or many sample columns." };
        var command = new Command("ingest-vcf", "Load a VCF into variant_occurrence: GT gives zygosity; GENE/GENEINFO, HGVSC, HGVSP, CLNSIG or ANN give annotations.");
        command.Options.Add(source);
        command.Options.Add(sampleDate);
        command.Arguments.Add(file);
        command.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            DateOnly? date = null;
            if (parseResult.GetValue(sampleDate) is { } text)
            {
                if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                {
                    await Console.Error.WriteLineAsync($"rwe: --sample-date '{text}' is not a date (yyyy-MM-dd)");
                    return 1;
                }

                date = parsed;
            }

            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var result = await VcfIngester.IngestAsync(connection, parseResult.GetValue(source)!, parseResult.GetValue(file)!, date, cancellationToken);
            await Console.Out.WriteLineAsync(
                $"loaded {result.Variants} variant(s) of {result.Samples} sample(s) from {result.Sites} site(s), sample date {result.SampleDate:yyyy-MM-dd}");
            return 0;
        }));
        return command;
    }

    private static Command IngestWearable()
    {
        var source = new Option<string>("--source") { Description = "Data source whose persons the Ids are (matched on person_source_value).", Required = true };
        var daily = new Option<string>("--daily") { Description = "Daily activity CSV: Id,ActivityDate,TotalSteps,... (Fitbit dailyActivity export).", Required = true };
        var heartRate = new Option<string?>("--heartrate") { Description = "Heart rate CSV: Id,Time,Value (Fitbit heartrate_seconds export), averaged per hour." };
        var device = new Option<string>("--device") { Description = "Device name stored with the rows.", DefaultValueFactory = _ => "fitbit" };
        var command = new Command("ingest-wearable", "Load a Fitbit-style export into wearable_daily (and wearable_hourly with --heartrate).");
        command.Options.Add(source);
        command.Options.Add(daily);
        command.Options.Add(heartRate);
        command.Options.Add(device);
        command.SetAction((parseResult, cancellationToken) => RunAsync(async dataSource =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var result = await WearableIngester.IngestAsync(
                connection,
                parseResult.GetValue(source)!,
                parseResult.GetValue(daily)!,
                parseResult.GetValue(heartRate),
                parseResult.GetValue(device)!,
                cancellationToken);
            await Console.Out.WriteLineAsync(
                $"loaded {result.DailyRows} daily row(s) and {result.HourlyRows} hourly row(s) ({result.HeartRateReadings} heart rate readings) for {result.Persons} person(s)");
            return 0;
        }));
        return command;
    }

    private static async Task<int> RunAsync(Func<Npgsql.NpgsqlDataSource, Task<int>> body)
    {
        try
        {
            return await SyntheticCommands.RunAsync(body);
        }
        catch (IngestValidationException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
    }
}
