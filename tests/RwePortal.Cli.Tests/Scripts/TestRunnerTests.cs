using System.Xml.Linq;
using RwePortal.Cli.Tests.Support;

namespace RwePortal.Cli.Tests.Scripts;

/// <summary>
/// Two throwaway test projects outside the clone, built once: Probe.Tests (one passing, one crashing, one hanging,
/// one skipped test and one passing test whose fixture's cleanup throws, picked by filter) and Empty.Tests (no test at all).
/// </summary>
public sealed class ProbeProjects : IAsyncLifetime
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("rwe-test-runner-").FullName;

    public string Probe => Path.Combine(Folder, "Probe.Tests", "Probe.Tests.csproj");

    public string Empty => Path.Combine(Folder, "Empty.Tests", "Empty.Tests.csproj");

    public async Task InitializeAsync()
    {
        Write(Probe, """
            namespace Probe;
            public class Ok { [Xunit.Fact] public void Passes() => Xunit.Assert.Equal(2, 1 + 1); }
            public class Failing { [Xunit.Fact] public void Fails() => Xunit.Assert.True(false, "probe failure\nits second line"); }
            public class Crash { [Xunit.Fact] public void Crashes() => System.Environment.FailFast("probe crash"); }
            public class Hang { [Xunit.Fact] public void Hangs() => System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite); }
            public class Skip { [Xunit.Fact(Skip = "probe skip")] public void Skipped() { } }
            public sealed class BrokenCleanup : System.IDisposable { public void Dispose() => throw new System.InvalidOperationException("probe cleanup"); }
            public class CleanupFails(BrokenCleanup fixture) : Xunit.IClassFixture<BrokenCleanup> { [Xunit.Fact] public void Passes() => Xunit.Assert.NotNull(fixture); }
            """);
        Write(Empty, """
            namespace Empty;
            public static class NotATest { public static int Answer() => 42; }
            """);
        foreach (var project in new[] { Probe, Empty })
        {
            var build = await Shell.RunAsync("dotnet", ["build", project, "-c", Shell.Configuration, "--nologo", "-v", "quiet"], timeout: TimeSpan.FromMinutes(5));
            Assert.True(build.ExitCode == 0, build.All);
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

    private static void Write(string csproj, string code)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(csproj)!);
        var versions = XDocument.Load(Path.Combine(Shell.Root, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!);
        File.WriteAllText(csproj, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <IsTestProject>true</IsTestProject>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Microsoft.NET.Test.Sdk" Version="{versions["Microsoft.NET.Test.Sdk"]}" />
                <PackageReference Include="xunit" Version="{versions["xunit"]}" />
                <PackageReference Include="xunit.runner.visualstudio" Version="{versions["xunit.runner.visualstudio"]}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(Path.GetDirectoryName(csproj)!, "Tests.cs"), code);
    }
}

/// <summary>
/// scripts/test.sh's counting, exercised on real dotnet test runs: every way a project can fail to prove
/// anything (no tests, a crashed host, a hung test, a skipped test) fails the run and shows in the closing line.
/// </summary>
public sealed class TestRunnerTests(ProbeProjects probes) : IClassFixture<ProbeProjects>
{
    /// <summary>Runs one project through test.sh's functions; only the hang case shortens the per-test timeout.</summary>
    private async Task<ShellResult> RunProject(string project, string? filter, string hangTimeout = "5m")
    {
        string[] extra = filter is null ? [] : ["--filter", $"FullyQualifiedName~Probe.{filter}"];
        return await Shell.BashAsync(
            """
            source "$1/scripts/test.sh"
            RESULTS="$2" HANG_TIMEOUT="$3"
            shift 3
            run_project Probe "$@"
            summary
            """,
            [Shell.Root, Path.Combine(probes.Folder, "results"), hangTimeout, project, .. extra],
            timeout: TimeSpan.FromMinutes(3));
    }

    private static string ClosingLine(ShellResult result) =>
        result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last(l => l.StartsWith("tests: ", StringComparison.Ordinal));

    [Fact]
    public async Task A_passing_project_passes_with_the_plain_closing_line()
    {
        var result = await RunProject(probes.Probe, "Ok");
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Equal("tests: 1 passed, 0 failed, 0 skipped", ClosingLine(result));
    }

    [Fact]
    public async Task A_failing_test_is_named_with_its_message_in_the_output()
    {
        var result = await RunProject(probes.Probe, "Failing");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Probe.Failing.Fails", result.Output, StringComparison.Ordinal);
        Assert.Contains("probe failure", result.Output, StringComparison.Ordinal);
        Assert.Contains("its second line", result.Output, StringComparison.Ordinal);
        Assert.Equal("tests: 0 passed, 1 failed, 0 skipped", ClosingLine(result));
    }

    [Fact]
    public async Task A_project_with_zero_tests_fails_the_run()
    {
        var result = await RunProject(probes.Empty, null);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Probe: no tests ran", result.Output, StringComparison.Ordinal);
        Assert.Equal("tests: 0 passed, 1 failed, 0 skipped", ClosingLine(result));
    }

    [Fact]
    public async Task A_crashed_test_host_fails_the_run_and_counts_as_a_failure()
    {
        var result = await RunProject(probes.Probe, "Crash");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("the test host was aborted", result.Output, StringComparison.Ordinal);
        Assert.Equal("tests: 0 passed, 1 failed, 0 skipped", ClosingLine(result));
    }

    [Fact]
    public async Task A_hung_test_is_stopped_by_the_per_test_timeout_and_fails_the_run_naming_it()
    {
        var started = DateTime.UtcNow;
        var result = await RunProject(probes.Probe, "Hang", hangTimeout: "10s");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(120), "the hang timeout did not stop the test");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Probe.Hang.Hangs", result.Output, StringComparison.Ordinal);
        Assert.Equal("tests: 0 passed, 1 failed, 0 skipped", ClosingLine(result));
    }

    [Fact]
    public async Task A_skipped_test_fails_the_run()
    {
        var result = await RunProject(probes.Probe, "Skip");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("skipped tests are not allowed", result.Output, StringComparison.Ordinal);
        Assert.Equal("tests: 0 passed, 0 failed, 1 skipped", ClosingLine(result));
    }

    [Fact]
    public async Task A_fixture_cleanup_that_throws_after_every_test_passed_fails_the_run_and_says_why()
    {
        var result = await RunProject(probes.Probe, "CleanupFails");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("although every test passed", result.Output, StringComparison.Ordinal);
        Assert.Contains("probe cleanup", result.Output, StringComparison.Ordinal);
        Assert.Equal("tests: 1 passed, 1 failed, 0 skipped", ClosingLine(result));
    }

    [Fact]
    public async Task Test_projects_are_discovered_from_the_tests_folder_not_listed()
    {
        var root = Directory.CreateTempSubdirectory("rwe-discover-").FullName;
        try
        {
            foreach (var name in new[] { "RwePortal.Zeta.Tests", "RwePortal.Alpha.Tests", "RwePortal.Testing" })
            {
                Directory.CreateDirectory(Path.Combine(root, "tests", name));
                await File.WriteAllTextAsync(Path.Combine(root, "tests", name, name + ".csproj"), "<Project />");
            }

            var result = await Shell.BashAsync("""source "$1/scripts/test.sh"; discover_projects "$2" """, [Shell.Root, root]);
            Assert.True(result.ExitCode == 0, result.All);
            Assert.Equal(
                [$"Alpha\t{root}/tests/RwePortal.Alpha.Tests/RwePortal.Alpha.Tests.csproj", $"Zeta\t{root}/tests/RwePortal.Zeta.Tests/RwePortal.Zeta.Tests.csproj"],
                result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Every_test_project_of_this_clone_is_in_the_solution_so_the_suite_builds_it()
    {
        var result = await Shell.BashAsync(
            """source "$1/scripts/test.sh"; discover_projects "$1" | cut -f2 """, [Shell.Root]);
        var solution = await File.ReadAllTextAsync(Path.Combine(Shell.Root, "RwePortal.sln"));
        var projects = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(projects, p => p.EndsWith("RwePortal.Cli.Tests.csproj", StringComparison.Ordinal));
        foreach (var project in projects)
        {
            Assert.Contains(Path.GetRelativePath(Shell.Root, project).Replace('/', '\\'), solution, StringComparison.Ordinal);
        }
    }
}
