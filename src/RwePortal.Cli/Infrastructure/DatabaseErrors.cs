using System.Text.RegularExpressions;
using Npgsql;

namespace RwePortal.Cli.Infrastructure;

/// <summary>Database failures that have a one-line answer for the person at the terminal.</summary>
internal static partial class DatabaseErrors
{
    public const string NotMigratedMessage = "the database is not migrated: run ./rwe demo or ./rwe migrate";

    /// <summary>
    /// True when <paramref name="exception"/> (or one it wraps) says that a schema or table of the app database
    /// (<c>app</c>, <c>gov</c>) is missing: undefined_table (42P01) or invalid_schema_name (3F000). A missing
    /// table of a warehouse source (<c>cdm_*</c>) is a different mistake and keeps its own message.
    /// </summary>
    public static bool IsNotMigrated(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName } postgres
                && AppSchemaObject().IsMatch(postgres.MessageText))
            {
                return true;
            }

            if (current is AggregateException aggregate && aggregate.InnerExceptions.Any(IsNotMigrated))
            {
                return true;
            }
        }

        return false;
    }

    [GeneratedRegex("\"(app|gov)(\"|\\.)", RegexOptions.CultureInvariant)]
    private static partial Regex AppSchemaObject();
}
