namespace RwePortal.Warehouse.Sources;

/// <summary>
/// An expected failure of a warehouse operation (unknown source, duplicate name, bad input file) whose message
/// is written for the person who ran it; callers show the message, not a stack trace.
/// </summary>
public sealed class WarehouseException : Exception
{
    public WarehouseException(string message)
        : base(message)
    {
    }

    public WarehouseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public WarehouseException()
    {
    }
}
