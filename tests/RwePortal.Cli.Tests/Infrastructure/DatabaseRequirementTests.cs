using System.CommandLine;
using System.Formats.Tar;
using RwePortal.Cli.Infrastructure;
using RwePortal.Cli.Tests.Support;

namespace RwePortal.Cli.Tests.Infrastructure;

/// <summary>The CLI tells the rwe script which command lines need PostgreSQL; the others run without it.</summary>
public sealed class DatabaseRequirementTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("rwe-state-").FullName;

    public void Dispose() => Directory.Delete(_state, recursive: true);

    [Theory]
    [InlineData("ps-analysis --data c.csv --estimand ATE --out r.json", false)]
    [InlineData("unpack a.tar.br --to out", false)]
    [InlineData("cdm-ddl", false)]
    [InlineData("bench simulate", false)]
    [InlineData("bench ps --skip-dense", false)]
    [InlineData("--help", false)]
    [InlineData("migrate --help", false)]
    [InlineData("no-such-command", false)]
    [InlineData("migrate", true)]
    [InlineData("seed-demo", true)]
    [InlineData("audit verify", true)]
    [InlineData("bench load", true)]
    [InlineData("source list", true)]
    public void Each_command_line_says_whether_it_needs_the_database(string commandLine, bool expected)
    {
        Assert.Equal(expected, DatabaseRequirement.Needs(CliRoot.Create(), commandLine.Split(' ')));
    }

    [Fact]
    public void Every_database_free_name_is_a_command_of_the_catalog()
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        void Walk(Command command, string prefix)
        {
            foreach (var sub in command.Subcommands)
            {
                var path = prefix.Length == 0 ? sub.Name : $"{prefix} {sub.Name}";
                paths.Add(path);
                Walk(sub, path);
            }
        }

        Walk(CliRoot.Create(), "");
        Assert.All(DatabaseRequirement.DatabaseFreeCommands, name => Assert.Contains(name, paths));
    }

    private Dictionary<string, string?> NoClusterHere() => new() { ["RWE_STATE_DIR"] = _state };

    [Fact]
    public async Task Rwe_runs_a_file_only_command_without_creating_or_starting_a_cluster()
    {
        var archive = Path.Combine(_state, "sample.tar");
        var source = Directory.CreateDirectory(Path.Combine(_state, "sample")).FullName;
        await File.WriteAllTextAsync(Path.Combine(source, "person.csv"), "person_id\n1\n");
        await TarFile.CreateFromDirectoryAsync(source, archive, includeBaseDirectory: false);
        var target = Path.Combine(_state, "unpacked");

        var unpack = await Shell.RweAsync(["unpack", archive, "--to", target], NoClusterHere());
        var ddl = await Shell.RweAsync(["cdm-ddl"], NoClusterHere());
        var help = await Shell.RweAsync(["help"], NoClusterHere());

        Assert.True(unpack.ExitCode == 0, unpack.All);
        Assert.True(File.Exists(Path.Combine(target, "person.csv")), unpack.All);
        Assert.True(ddl.ExitCode == 0, ddl.All);
        Assert.Contains("CREATE TABLE", ddl.Output, StringComparison.Ordinal);
        Assert.True(help.ExitCode == 0, help.All);
        Assert.Contains("ps-analysis", help.Output, StringComparison.Ordinal);
        Assert.False(Path.Exists(Path.Combine(_state, "pg")), "a cluster was created for a command that needs none");
        Assert.False(Path.Exists(Path.Combine(_state, "port")), "a cluster port was chosen for a command that needs none");
    }
}
