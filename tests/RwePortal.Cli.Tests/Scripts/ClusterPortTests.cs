using System.Net;
using System.Net.Sockets;
using RwePortal.Cli.Tests.Support;

namespace RwePortal.Cli.Tests.Scripts;

/// <summary>A second clone's private cluster that finds its saved port taken moves to a free one when it starts.</summary>
public sealed class ClusterPortTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("rwe-cluster-").FullName;

    private Dictionary<string, string?> Clone(int port) => new() { ["RWE_STATE_DIR"] = _state, ["RWE_PG_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    public Task InitializeAsync()
    {
        // Readable by the postgres user, so the cluster lives inside this folder and goes with it.
        File.SetUnixFileMode(_state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Shell.RweAsync(["db", "stop"], Clone(0));
        var data = new DirectoryInfo(Path.Combine(_state, "pg"));
        if (data.LinkTarget is { } outside)
        {
            Directory.Delete(outside, recursive: true);
        }

        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task A_cluster_whose_saved_port_was_taken_starts_on_the_next_free_port_and_saves_it()
    {
        var saved = Ports.Free();
        var created = await Shell.RweAsync(["db", "start"], Clone(saved));
        Assert.True(created.ExitCode == 0, created.All);
        Assert.Equal(saved.ToString(System.Globalization.CultureInfo.InvariantCulture), await File.ReadAllTextAsync(Path.Combine(_state, "port")));
        var stopped = await Shell.RweAsync(["db", "stop"], Clone(saved));
        Assert.True(stopped.ExitCode == 0, stopped.All);

        using var squatter = new TcpListener(IPAddress.Loopback, saved);
        squatter.Start();
        var restarted = await Shell.RweAsync(["db", "start"], Clone(saved));

        Assert.True(restarted.ExitCode == 0, restarted.All);
        var now = int.Parse(await File.ReadAllTextAsync(Path.Combine(_state, "port")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(saved, now);
        Assert.Contains($"port = {now}", await File.ReadAllTextAsync(Path.Combine(_state, "pg", "postgresql.conf")), StringComparison.Ordinal);
        var status = await Shell.RweAsync(["db", "status"], Clone(saved));
        Assert.True(status.ExitCode == 0, status.All);
        Assert.Contains($"running on port {now}", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_that_no_program_listens_on_but_a_socket_holds_is_skipped_when_the_server_cannot_bind_it()
    {
        using var holder = new HeldPort();
        var held = holder.Port;
        Assert.False(Ports.Answers(held));

        var started = await Shell.RweAsync(["db", "start"], Clone(held));

        Assert.True(started.ExitCode == 0, started.All);
        Assert.Contains($"port {held} could not be bound", started.Error, StringComparison.Ordinal);
        var now = int.Parse(await File.ReadAllTextAsync(Path.Combine(_state, "port")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(held, now);
        Assert.True(Ports.Answers(now), $"nothing listens on the saved port {now}");
        var status = await Shell.RweAsync(["db", "status"], Clone(held));
        Assert.Contains($"running on port {now}", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_that_lost_its_port_file_starts_on_the_port_it_saves_again()
    {
        var first = Ports.Free();
        var created = await Shell.RweAsync(["db", "start"], Clone(first));
        Assert.True(created.ExitCode == 0, created.All);
        await Shell.RweAsync(["db", "stop"], Clone(first));
        File.Delete(Path.Combine(_state, "port"));

        var second = Ports.Free();
        var restarted = await Shell.RweAsync(["db", "start"], Clone(second));

        Assert.True(restarted.ExitCode == 0, restarted.All);
        var saved = await File.ReadAllTextAsync(Path.Combine(_state, "port"));
        var status = await Shell.RweAsync(["db", "status"], Clone(second));
        Assert.Contains($"running on port {saved}", status.Error, StringComparison.Ordinal);
        Assert.True(Ports.Answers(int.Parse(saved, System.Globalization.CultureInfo.InvariantCulture)), $"nothing listens on the saved port {saved}");
    }
}
