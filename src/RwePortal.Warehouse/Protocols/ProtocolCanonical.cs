using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RwePortal.Warehouse.Protocols;

/// <summary>
/// The canonical form of a protocol, the text a signature and a diff are bound to: <c>version</c> first, then the
/// components present in their fixed order (general, eligibility, strategies, assignment, timeZero, followUp, outcome,
/// contrast, analysisPlan); inside a component, object properties in ordinal order of their names, arrays in document
/// order, no insignificant whitespace, integral numbers without a fraction, other numbers in round-trip form, strings
/// with only the escapes JSON requires. Two documents that differ only in layout, property order or 2 vs 2.0 have the
/// same canonical JSON and hash.
/// </summary>
public static class ProtocolCanonical
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The canonical JSON of the whole protocol.</summary>
    public static string Json(ProtocolDefinition protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var builder = new StringBuilder("{\"version\":").Append(protocol.Version.ToString(CultureInfo.InvariantCulture));
        foreach (var name in ProtocolComponents.All)
        {
            if (protocol.Components.TryGetValue(name, out var component))
            {
                builder.Append(",\"").Append(name).Append("\":").Append(component);
            }
        }

        return builder.Append('}').ToString();
    }

    /// <summary>Lower-case hex SHA-256 of the UTF-8 bytes of <see cref="Json"/>.</summary>
    public static string Hash(ProtocolDefinition protocol) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Json(protocol))));

    /// <summary>The canonical JSON of one element (a component).</summary>
    internal static string Canonicalize(JsonElement element)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, WriterOptions))
        {
            Write(writer, element);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                var value = element.GetDouble();
                if (Math.Abs(value) < 1e15 && value == Math.Floor(value))
                {
                    writer.WriteNumberValue((long)value);
                }
                else
                {
                    writer.WriteRawValue(value.ToString("R", CultureInfo.InvariantCulture), skipInputValidation: false);
                }

                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
