namespace RwePortal.Warehouse.Loading;

/// <summary>
/// A file of an OMOP CSV export that cannot be loaded; the message reads <c>FILE:LINE: column COLUMN: reason</c>.
/// The load it aborts leaves the warehouse exactly as it was.
/// </summary>
public sealed class OmopLoadException : Exception
{
    public OmopLoadException(string file, long line, string? column, string reason, Exception? innerException = null)
        : base(Format(file, line, column, reason), innerException)
    {
        File = file;
        Line = line;
        Column = column;
        Reason = reason;
    }

    public OmopLoadException()
    {
        File = string.Empty;
        Reason = string.Empty;
    }

    public OmopLoadException(string message)
        : base(message)
    {
        File = string.Empty;
        Reason = message;
    }

    public OmopLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = string.Empty;
        Reason = message;
    }

    /// <summary>The file name (without directory).</summary>
    public string File { get; }

    /// <summary>The 1-based line where the bad record starts (1 is the header); 0 when the problem is the file as a whole.</summary>
    public long Line { get; }

    /// <summary>The column of the file at fault, or null when no single column is.</summary>
    public string? Column { get; }

    public string Reason { get; }

    private static string Format(string file, long line, string? column, string reason) =>
        column is null ? $"{file}:{line}: {reason}" : $"{file}:{line}: column {column}: {reason}";
}
