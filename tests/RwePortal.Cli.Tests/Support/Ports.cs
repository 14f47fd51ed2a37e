using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RwePortal.Cli.Tests.Support;

internal static class Ports
{
    /// <summary>
    /// A loopback port that nothing listened on a moment ago, below the kernel's ephemeral range (32768 and up), so that
    /// no outgoing connection of another program can be holding it as its local port.
    /// </summary>
    public static int Free()
    {
        for (var port = Random.Shared.Next(20000, 30000); ; port++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            try
            {
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // taken: the next one
            }
        }
    }

    public static bool Answers(int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>
/// A loopback port held the way another program's outgoing connection holds its local port: bound, not listening,
/// without SO_REUSEADDR. A connection attempt finds nothing there, yet a server cannot bind it. Made through libc
/// because .NET's own sockets let a server bind beside them.
/// </summary>
internal sealed partial class HeldPort : IDisposable
{
    private readonly int _fd;

    public HeldPort()
    {
        _fd = NativeMethods.socket(2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
        if (_fd < 0)
        {
            throw new InvalidOperationException("socket() failed");
        }

        var address = new byte[16];
        address[0] = 2; // sin_family AF_INET (little-endian)
        address[4] = 127;
        address[7] = 1; // 127.0.0.1; sin_port 0: the kernel picks one
        if (NativeMethods.bind(_fd, address, address.Length) != 0)
        {
            throw new InvalidOperationException("bind() failed");
        }

        var length = address.Length;
        if (NativeMethods.getsockname(_fd, address, ref length) != 0)
        {
            throw new InvalidOperationException("getsockname() failed");
        }

        Port = (address[2] << 8) | address[3];
    }

    public int Port { get; }

    public void Dispose() => _ = NativeMethods.close(_fd);

    private static partial class NativeMethods
    {
        [LibraryImport("libc", SetLastError = true)]
        internal static partial int socket(int domain, int type, int protocol);

        [LibraryImport("libc", SetLastError = true)]
        internal static partial int bind(int fd, byte[] address, int length);

        [LibraryImport("libc", SetLastError = true)]
        internal static partial int getsockname(int fd, byte[] address, ref int length);

        [LibraryImport("libc")]
        internal static partial int close(int fd);
    }
}
