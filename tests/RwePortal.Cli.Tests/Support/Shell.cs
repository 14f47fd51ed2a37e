using System.Diagnostics;

namespace RwePortal.Cli.Tests.Support;

/// <summary>What a finished process left: its exit code and what it printed.</summary>
internal sealed record ShellResult(int ExitCode, string Output, string Error)
{
    public string All => Output + Error;
}

/// <summary>Runs the repository's scripts (<c>rwe</c>, <c>scripts/test.sh</c>) and the built CLI as real processes.</summary>
internal static class Shell
{
    /// <summary>The clone's root folder (the one holding RwePortal.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration these tests were built in; the scripts use the same CLI build.</summary>
    public const string Configuration =
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    public static async Task<ShellResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["RWE_CONFIGURATION"] = Configuration;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in time:\n{await output}{await error}");
        }

        return new ShellResult(process.ExitCode, await output, await error);
    }

    /// <summary>Runs a bash snippet; <c>$1</c>, <c>$2</c>, ... are <paramref name="arguments"/>.</summary>
    public static Task<ShellResult> BashAsync(
        string script,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null) =>
        RunAsync("bash", ["-c", script, "bash", .. arguments], environment, timeout);

    /// <summary>Runs <c>./rwe</c> with the given arguments, without rebuilding the CLI these tests were built with.</summary>
    public static Task<ShellResult> RweAsync(
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? timeout = null)
    {
        var merged = new Dictionary<string, string?> { ["RWE_NO_BUILD"] = "1" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            merged[name] = value;
        }

        return RunAsync(Path.Combine(Root, "rwe"), arguments, merged, timeout);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RwePortal.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no RwePortal.sln above {AppContext.BaseDirectory}");
    }
}
