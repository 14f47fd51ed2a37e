using Microsoft.EntityFrameworkCore;
using Npgsql;
using RwePortal.Application.Data;
using RwePortal.Warehouse.Analyses;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Application.Analyses;

/// <summary>A registered source as a run needs it: its schema and when it was last loaded.</summary>
public sealed record AnalysisSource(string Name, string SchemaName, DateTimeOffset? LoadedAt);

/// <summary>Finds a registered source by name (the run slices check the tenant's grant before a run is queued).</summary>
public interface IAnalysisSources
{
    Task<AnalysisSource?> FindAsync(string name, CancellationToken cancellationToken);
}

/// <summary>The registry of sources in the app database.</summary>
internal sealed class RegisteredAnalysisSources(IDbContextFactory<AppDbContext> contexts) : IAnalysisSources
{
    public async Task<AnalysisSource?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.DataSources.AsNoTracking()
            .Where(s => s.Name == name)
            .Select(s => new AnalysisSource(s.Name, s.SchemaName, s.LoadedAt))
            .SingleOrDefaultAsync(cancellationToken);
    }
}

/// <summary>
/// The baseline covariates of a study population (FeatureExtraction's sparse triplets, strictly before time zero), read
/// over the run's open reader connection (no transaction open on it) with consent for the purpose.
/// </summary>
public interface IBaselineCovariateExtractor
{
    Task<CovariateData> ExtractAsync(
        NpgsqlConnection reader, AnalysisSource source, string purpose, IReadOnlyList<StudyPerson> persons, Assignment assignment, CancellationToken cancellationToken);
}

/// <summary>The baseline covariates of the assignment as FeatureExtraction's analyses (the warehouse's covariate extractor).</summary>
public sealed class WarehouseCovariateExtractor : IBaselineCovariateExtractor
{
    public Task<CovariateData> ExtractAsync(
        NpgsqlConnection reader, AnalysisSource source, string purpose, IReadOnlyList<StudyPerson> persons, Assignment assignment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        return CovariateExtractor.ExtractAsync(reader, source.SchemaName, persons, CovariateSettings.From(assignment, source.Name, purpose), cancellationToken);
    }
}
