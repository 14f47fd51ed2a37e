using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace RwePortal.Application.Privacy;

/// <summary>
/// The seed of a count's noise: a SHA-256 over the parts that make a query logically what it is (its canonical
/// definition, the data source, the purpose, the measure) and nothing that varies between runs of the same query
/// (time, user, wording of a name). The same parts give the same seed, so the same shown number.
/// </summary>
public static class QuerySeed
{
    /// <summary>A seed from ordered parts; each is length-prefixed, so ("ab", "c") and ("a", "bc") differ.</summary>
    public static byte[] Of(params ReadOnlySpan<string> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in parts)
        {
            ArgumentNullException.ThrowIfNull(part);
            var bytes = Encoding.UTF8.GetBytes(part);
            BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }

        return hash.GetHashAndReset();
    }
}
