namespace RwePortal.Warehouse.Ingest;

/// <summary>One problem found in an input file, with the 1-based line it is on (0 for the file as a whole).</summary>
public sealed record IngestProblem(string File, int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}: {Message}" : $"{File}: {Message}";
}

/// <summary>
/// An input file was rejected: every problem found (up to <see cref="MaxProblems"/>) is listed with its line number,
/// and nothing was written.
/// </summary>
public sealed class IngestValidationException : Exception
{
    public const int MaxProblems = 100;

    public IngestValidationException(IReadOnlyList<IngestProblem> problems, int totalProblems)
        : base(Describe(problems, totalProblems))
    {
        Problems = problems;
        TotalProblems = totalProblems;
    }

    public IngestValidationException()
        : this([], 0)
    {
    }

    public IngestValidationException(string message)
        : base(message)
    {
        Problems = [];
    }

    public IngestValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [];
    }

    public IReadOnlyList<IngestProblem> Problems { get; } = [];

    /// <summary>All problems found, including those beyond the listed ones.</summary>
    public int TotalProblems { get; }

    private static string Describe(IReadOnlyList<IngestProblem> problems, int total)
    {
        var lines = problems.Select(p => p.ToString()).ToList();
        if (total > problems.Count)
        {
            lines.Add($"... and {total - problems.Count} more problems");
        }

        return $"rejected: {total} problem(s), nothing was written\n" + string.Join('\n', lines);
    }
}

/// <summary>Collects problems up to a limit while still counting them all.</summary>
internal sealed class ProblemList(string file)
{
    private readonly List<IngestProblem> _problems = [];

    public int Count { get; private set; }

    public bool Any => Count > 0;

    public void Add(int line, string message)
    {
        Count++;
        if (_problems.Count < IngestValidationException.MaxProblems)
        {
            _problems.Add(new IngestProblem(file, line, message));
        }
    }

    public void Merge(ProblemList other)
    {
        foreach (var problem in other._problems)
        {
            if (_problems.Count < IngestValidationException.MaxProblems)
            {
                _problems.Add(problem);
            }
        }

        Count += other.Count;
    }

    public IngestValidationException ToException() => new(_problems, Count);
}
