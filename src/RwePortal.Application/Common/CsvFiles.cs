using System.Globalization;
using System.Text;
using CsvHelper;

namespace RwePortal.Application.Common;

/// <summary>
/// The portal's CSV exports (UTF-8, RFC 4180): numbers are written as numbers (doubles round-trip), null as an empty
/// field, and text that a spreadsheet would run as a formula is escaped.
/// </summary>
public static class CsvFiles
{
    public static byte[] Write(IReadOnlyList<string> header, IEnumerable<object?[]> lines)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(lines);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true))
        {
            csv.WriteRecord(header.ToArray());
            foreach (var line in lines)
            {
                foreach (var field in line)
                {
                    switch (field)
                    {
                        case null:
                            csv.WriteField("");
                            break;
                        case long number:
                            csv.WriteField(number, "");
                            break;
                        case int number:
                            csv.WriteField(number, "");
                            break;
                        case double number:
                            csv.WriteField(number, "R");
                            break;
                        default:
                            csv.WriteField(Convert.ToString(field, CultureInfo.InvariantCulture) ?? "");
                            break;
                    }
                }

                csv.EndRecord();
            }
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
