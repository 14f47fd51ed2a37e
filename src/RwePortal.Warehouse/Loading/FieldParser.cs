using System.Globalization;
using System.Text;
using NpgsqlTypes;

namespace RwePortal.Warehouse.Loading;

/// <summary>A column of a warehouse table as the loader sees it (from the PostgreSQL catalog).</summary>
internal sealed record TargetColumn(string Name, string DataType, int? MaxLength, bool IsRequired);

/// <summary>
/// Checks one CSV field against its column type and turns it into the value written by binary COPY.
/// Returns null on success or the reason the value is rejected.
/// </summary>
internal abstract class FieldParser
{
    private const int MaxDateLength = 40;

    private static readonly string[] DateFormats = ["yyyy-MM-dd", "yyyyMMdd"];

    private static readonly string[] DateTimeFormats =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-ddTHH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm", "yyyy-MM-ddTHH:mm", "yyyyMMdd HH:mm:ss", "yyyyMMddTHH:mm:ss", "yyyyMMdd HHmmss", "yyyyMMddTHHmmss",
    ];

    public abstract NpgsqlDbType DbType { get; }

    /// <summary>Parses a non-empty value and writes it to the row being imported.</summary>
    public abstract string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8);

    public static FieldParser For(TargetColumn column) => column.DataType switch
    {
        "integer" => new IntegerParser(),
        "bigint" => new BigIntParser(),
        "smallint" => new SmallIntParser(),
        "numeric" => new NumericParser(),
        "double precision" => new DoubleParser(),
        "real" => new DoubleParser(),
        "date" => new DateParser(),
        "timestamp without time zone" => new TimestampParser(),
        "character varying" => new TextParser(column.MaxLength, NpgsqlDbType.Varchar),
        "character" => new TextParser(column.MaxLength, NpgsqlDbType.Char),
        "text" => new TextParser(null, NpgsqlDbType.Text),
        _ => throw new NotSupportedException($"column {column.Name} has type {column.DataType}, which the OMOP CSV loader does not load"),
    };

    private static string Text(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    private static string Shown(ReadOnlySpan<byte> utf8)
    {
        var text = Text(utf8);
        return text.Length > 40 ? $"'{text[..40]}…'" : $"'{text}'";
    }

    private static bool TryParseDateTime(ReadOnlySpan<byte> utf8, bool dateOnly, out DateTime value)
    {
        value = default;
        if (utf8.Length > MaxDateLength)
        {
            return false;
        }

        Span<char> chars = stackalloc char[MaxDateLength];
        if (!Encoding.UTF8.TryGetChars(utf8, chars, out var length))
        {
            return false;
        }

        var text = chars[..length].Trim();
        if (text.Length > 0 && (text[^1] == 'Z' || text[^1] == 'z'))
        {
            text = text[..^1];
        }

        const DateTimeStyles styles = DateTimeStyles.None;
        if (DateTime.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, styles, out value))
        {
            return true;
        }

        if (!DateTime.TryParseExact(text, DateTimeFormats, CultureInfo.InvariantCulture, styles, out value))
        {
            return false;
        }

        // A date column accepts a datetime only at midnight (exports often write dates that way).
        return !dateOnly || value.TimeOfDay == TimeSpan.Zero;
    }

    private sealed class IntegerParser : FieldParser
    {
        public override NpgsqlDbType DbType => NpgsqlDbType.Integer;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (!int.TryParse(utf8, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return long.TryParse(utf8, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                    ? $"{Shown(utf8)} is out of range for integer"
                    : $"{Shown(utf8)} is not an integer";
            }

            importer.Write(value, NpgsqlDbType.Integer);
            return null;
        }
    }

    private sealed class BigIntParser : FieldParser
    {
        public override NpgsqlDbType DbType => NpgsqlDbType.Bigint;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (!long.TryParse(utf8, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return $"{Shown(utf8)} is not an integer (bigint)";
            }

            importer.Write(value, NpgsqlDbType.Bigint);
            return null;
        }
    }

    private sealed class SmallIntParser : FieldParser
    {
        public override NpgsqlDbType DbType => NpgsqlDbType.Smallint;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (!short.TryParse(utf8, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                return $"{Shown(utf8)} is not a smallint";
            }

            importer.Write(value, NpgsqlDbType.Smallint);
            return null;
        }
    }

    private sealed class NumericParser : FieldParser
    {
        public override NpgsqlDbType DbType => NpgsqlDbType.Numeric;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (!decimal.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                return double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                    ? $"{Shown(utf8)} is out of the range this loader reads for numeric (±7.9e28)"
                    : $"{Shown(utf8)} is not a number";
            }

            importer.Write(value, NpgsqlDbType.Numeric);
            return null;
        }
    }

    private sealed class DoubleParser : FieldParser
    {
        public override NpgsqlDbType DbType => NpgsqlDbType.Double;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (!double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                return $"{Shown(utf8)} is not a number";
            }

            importer.Write(value, NpgsqlDbType.Double);
            return null;
        }
    }

    private sealed class DateParser : FieldParser
    {
        public override NpgsqlDbType DbType => NpgsqlDbType.Date;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (!TryParseDateTime(utf8, dateOnly: true, out var value))
            {
                return $"{Shown(utf8)} is not a date (expected YYYY-MM-DD or YYYYMMDD)";
            }

            importer.Write(DateOnly.FromDateTime(value), NpgsqlDbType.Date);
            return null;
        }
    }

    private sealed class TimestampParser : FieldParser
    {
        public override NpgsqlDbType DbType => NpgsqlDbType.Timestamp;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (!TryParseDateTime(utf8, dateOnly: false, out var value))
            {
                return $"{Shown(utf8)} is not a date-time (expected YYYY-MM-DD HH:MM:SS, YYYY-MM-DDTHH:MM:SS or a date)";
            }

            importer.Write(DateTime.SpecifyKind(value, DateTimeKind.Unspecified), NpgsqlDbType.Timestamp);
            return null;
        }
    }

    private sealed class TextParser(int? maxLength, NpgsqlDbType dbType) : FieldParser
    {
        public override NpgsqlDbType DbType => dbType;

        public override string? Write(Npgsql.NpgsqlBinaryImporter importer, ReadOnlySpan<byte> utf8)
        {
            if (utf8.Contains((byte)0))
            {
                return "contains a NUL character, which PostgreSQL text cannot hold";
            }

            var text = Text(utf8);
            if (maxLength is { } max && text.Length > max)
            {
                var characters = text.EnumerateRunes().Count();
                if (characters > max)
                {
                    return $"value has {characters} characters, more than the {max} that varchar({max}) holds";
                }
            }

            importer.Write(text, dbType);
            return null;
        }
    }
}
