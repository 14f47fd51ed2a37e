using Dapper;
using Npgsql;
using RwePortal.Cli.Tests.Support;

namespace RwePortal.Cli.Tests.Commands;

/// <summary><c>rwe consent import</c> as an operator runs it, on <see cref="SubgroupCliFixture"/>'s 30-person source.</summary>
public sealed class ConsentImportCommandTests(SubgroupCliFixture fixture) : IClassFixture<SubgroupCliFixture>
{
    private Task<ShellResult> Rwe(params string[] arguments) => Shell.RunAsync(
        "dotnet",
        [Path.Combine(Shell.Root, "src", "RwePortal.Cli", "bin", Shell.Configuration, "net10.0", "rwe.dll"), .. arguments],
        new Dictionary<string, string?> { ["RWE_CS_OWNER"] = fixture.Database.OwnerConnectionString, ["ConnectionStrings__Owner"] = null },
        TimeSpan.FromMinutes(2));

    [Fact]
    public async Task An_import_appends_the_records_with_one_consent_event_naming_the_file_and_the_operator()
    {
        var file = Path.Combine(fixture.Folder, "recontact.csv");
        await File.WriteAllTextAsync(file, "person_id,purpose,status,effective_from\n3,recontact,granted,2024-01-01\n4,recontact,granted,2024-01-01\n");

        var result = await Rwe("consent", "import", "--source", SubgroupCliFixture.Source, file);

        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("imported 2 consent records into source cli_sub (2 granted, 0 withdrawn)", result.Output, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(fixture.Database.OwnerConnectionString);
        var events = (await connection.QueryAsync<(string, string, string)>(
            "SELECT event_type, user_email, details->>'rows' FROM app.audit_event WHERE target = 'cli_sub: import recontact.csv'")).ToList();
        Assert.Equal([("ConsentChanged", "cli:" + Environment.UserName, "2")], events);
        Assert.Equal(2, await connection.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM gov.consent WHERE source = 'cli_sub' AND purpose = 'recontact'"));
    }
}
