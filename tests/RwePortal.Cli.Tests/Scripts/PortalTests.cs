using System.Globalization;
using System.Net;
using System.Net.Sockets;
using RwePortal.Cli.Tests.Support;

namespace RwePortal.Cli.Tests.Scripts;

/// <summary>
/// <c>./rwe portal start|stop</c> against this clone's running cluster, with a state folder of its own (so a
/// developer's demo portal is left alone) on a free port: the recorded pid is the portal's, stop frees the port,
/// and the portal's environment holds no owner credentials.
/// </summary>
public sealed class PortalTests(PortalTests.BuiltPortal built) : IClassFixture<PortalTests.BuiltPortal>, IDisposable
{
    /// <summary>The portal built once and the clone's database migrated once; each start then skips the build.</summary>
    public sealed class BuiltPortal : IAsyncLifetime
    {
        internal ShellResult? Migrated { get; private set; }

        public async Task InitializeAsync()
        {
            var build = await Shell.RunAsync(
                "dotnet", ["build", "src/RwePortal.Web", "-c", Shell.Configuration, "--nologo", "-v", "quiet"], timeout: TimeSpan.FromMinutes(10));
            Assert.True(build.ExitCode == 0, build.All);
            Migrated = await Shell.RweAsync(["migrate"], timeout: TimeSpan.FromMinutes(5));
        }

        public Task DisposeAsync() => Task.CompletedTask;
    }

    private readonly string _state = CloneState();
    private readonly int _port = Ports.Free();

    private static string CloneState()
    {
        // The cluster, its port and its secrets are this clone's (./rwe test started it); the pid and log are ours.
        var state = Directory.CreateTempSubdirectory("rwe-portal-").FullName;
        var clone = Path.Combine(Shell.Root, ".rwe");
        File.CreateSymbolicLink(Path.Combine(state, "pg"), Path.Combine(clone, "pg"));
        File.CreateSymbolicLink(Path.Combine(state, "secrets"), Path.Combine(clone, "secrets"));
        File.Copy(Path.Combine(clone, "port"), Path.Combine(state, "port"));
        return state;
    }

    public void Dispose()
    {
        if (File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile), out var pid))
        {
            try
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
                // Already gone, as it should be.
            }
        }

        Directory.Delete(_state, recursive: true);
    }

    private string PidFile => Path.Combine(_state, "portal.pid");

    private Task<ShellResult> Rwe(params string[] arguments) => Shell.RweAsync(
        arguments,
        new Dictionary<string, string?>
        {
            ["RWE_STATE_DIR"] = _state,
            ["RWE_PORTAL_URL"] = $"http://127.0.0.1:{_port}",
        },
        TimeSpan.FromMinutes(5));

    [Fact]
    public async Task Portal_starts_and_stops_twice_and_each_stop_frees_the_port()
    {
        Assert.True(built.Migrated is { ExitCode: 0 }, built.Migrated?.All);

        for (var round = 1; round <= 2; round++)
        {
            var started = await Rwe("portal", "start");
            Assert.True(started.ExitCode == 0, $"start {round}: {started.All}");
            Assert.True(Ports.Answers(_port), $"start {round}: nothing listens on {_port}");
            var pid = int.Parse(await File.ReadAllTextAsync(PidFile), CultureInfo.InvariantCulture);
            Assert.Contains("RwePortal.Web.dll", await File.ReadAllTextAsync($"/proc/{pid}/cmdline"), StringComparison.Ordinal);

            var stopped = await Rwe("portal", "stop");
            Assert.True(stopped.ExitCode == 0, $"stop {round}: {stopped.All}");
            Assert.False(Ports.Answers(_port), $"stop {round}: port {_port} still answers");
            Assert.False(File.Exists($"/proc/{pid}/cmdline") && (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Contains("RwePortal.Web.dll", StringComparison.Ordinal), $"stop {round}: the portal process {pid} is still there");
        }
    }

    [Fact]
    public async Task Stop_also_stops_a_portal_of_this_clone_whose_pid_was_not_recorded()
    {
        // What an older rwe script left behind: the portal runs, the pid file names something else.
        var started = await Rwe("portal", "start");
        Assert.True(started.ExitCode == 0, started.All);
        var pid = await File.ReadAllTextAsync(PidFile);
        await File.WriteAllTextAsync(PidFile, "999999");

        var stopped = await Rwe("portal", "stop");

        Assert.True(stopped.ExitCode == 0, stopped.All);
        Assert.False(Ports.Answers(_port), $"port {_port} still answers");
        Assert.False(Directory.Exists($"/proc/{pid.Trim()}") && (await File.ReadAllTextAsync($"/proc/{pid.Trim()}/cmdline")).Contains("RwePortal.Web.dll", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_portal_process_has_the_app_and_warehouse_connections_and_no_owner_credentials()
    {
        var ownerPassword = (await File.ReadAllTextAsync(Path.Combine(_state, "secrets", "owner"))).Trim();
        var started = await Rwe("portal", "start");
        try
        {
            Assert.True(started.ExitCode == 0, started.All);
            var pid = int.Parse(await File.ReadAllTextAsync(PidFile), CultureInfo.InvariantCulture);
            var environment = (await File.ReadAllTextAsync($"/proc/{pid}/environ")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            var names = environment.Select(e => e.Split('=', 2)[0]).ToHashSet(StringComparer.Ordinal);

            Assert.Contains("ConnectionStrings__App", names);
            Assert.Contains("ConnectionStrings__Warehouse", names);
            Assert.Contains(environment, e => e.StartsWith("ConnectionStrings__App=", StringComparison.Ordinal) && e.Contains("Username=rwe_app;", StringComparison.Ordinal));
            Assert.Contains(environment, e => e.StartsWith("ConnectionStrings__Warehouse=", StringComparison.Ordinal) && e.Contains("Username=rwe_reader;", StringComparison.Ordinal));
            Assert.DoesNotContain(environment, e => e.Contains(ownerPassword, StringComparison.Ordinal));
            Assert.DoesNotContain(environment, e => e.Contains("rwe_owner", StringComparison.Ordinal));
            Assert.DoesNotContain(names, n => n.StartsWith("RWE_", StringComparison.Ordinal) || n == "ConnectionStrings__Owner");
        }
        finally
        {
            var stopped = await Rwe("portal", "stop");
            Assert.True(stopped.ExitCode == 0, stopped.All);
        }
    }

    [Fact]
    public async Task Start_refuses_and_stop_fails_when_another_process_holds_the_portal_port()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, _port);
        squatter.Start();

        var started = await Rwe("portal", "start");
        var stopped = await Rwe("portal", "stop");

        Assert.NotEqual(0, started.ExitCode);
        Assert.Contains("already answers, but not from a portal this clone started", started.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(PidFile));
        Assert.NotEqual(0, stopped.ExitCode);
        Assert.Contains("still answers", stopped.Error, StringComparison.Ordinal);
    }
}
