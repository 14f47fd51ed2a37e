using Dapper;
using Npgsql;
using RwePortal.Application.Audit;

namespace RwePortal.Application.Tests.Audit;

/// <summary>
/// Verifying against an anchor (an event id and hash kept outside the database). These tests leave the trail intact;
/// cutting it off is in <see cref="AuditTruncationTests"/>, on a database of its own.
/// </summary>
public sealed class AuditAnchorTests(AuditDatabase audit) : IClassFixture<AuditDatabase>
{
    private async Task<long> AppendAsync()
    {
        await audit.Trail.RecordAsync(
            new AuditActor(Guid.NewGuid(), Guid.NewGuid(), "auditor@acme.test"), new AuditRecord(AuditEventTypes.Command, "anchored", "Success"));
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);
        return await owner.ExecuteScalarAsync<long>("SELECT max(id) FROM app.audit_event");
    }

    private async Task<AuditChainReport> VerifyAsync(AuditChainHead? anchor)
    {
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);
        await owner.OpenAsync();
        return await AuditChain.VerifyAsync(owner, anchor, CancellationToken.None);
    }

    [Fact]
    public async Task Verify_reports_the_head_as_the_last_event_and_its_hash()
    {
        await AppendAsync();
        var last = await AppendAsync();

        var report = await VerifyAsync(null);

        Assert.True(report.Intact);
        Assert.Equal(last, report.Head!.Id);
        await using var owner = new NpgsqlConnection(audit.Database.OwnerConnectionString);
        var hash = await owner.ExecuteScalarAsync<byte[]>("SELECT hash FROM app.audit_event WHERE id = @last", new { last });
        Assert.Equal($"{last}:{Convert.ToHexStringLower(hash!)}", report.Head.ToString());
        using var stdout = new StringWriter();
        Assert.Equal(0, AuditChainOutput.Write(report, null, stdout, TextWriter.Null));
        Assert.Contains($"\nhead: {last}:{Convert.ToHexStringLower(hash!)}\n", stdout.ToString().ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_earlier_head_kept_as_anchor_still_verifies_after_later_appends()
    {
        await AppendAsync();
        var anchor = (await VerifyAsync(null)).Head!;
        await AppendAsync();
        await AppendAsync();

        var report = await VerifyAsync(anchor);

        Assert.True(report.Intact, report.AnchorMismatch);
        Assert.True(report.Head!.Id > anchor.Id);
    }

    [Fact]
    public async Task An_anchor_whose_hash_differs_fails_and_says_so()
    {
        var id = await AppendAsync();
        var forged = new AuditChainHead(id, new string('a', 64));

        var report = await VerifyAsync(forged);

        Assert.False(report.Intact);
        Assert.Null(report.FirstBreak);
        Assert.Contains($"event {id} has hash", report.AnchorMismatch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_anchor_beyond_the_end_of_the_trail_fails_as_missing()
    {
        var id = await AppendAsync();

        var report = await VerifyAsync(new AuditChainHead(id + 1000, new string('0', 64)));

        Assert.False(report.Intact);
        Assert.Contains($"anchor event {id + 1000} is missing", report.AnchorMismatch, StringComparison.Ordinal);
        Assert.Contains("newest events were removed", report.AnchorMismatch, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("12:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789", true)]
    [InlineData(" 7:" + "0000000000000000000000000000000000000000000000000000000000000000 ", true)]
    [InlineData("12", false)]
    [InlineData("0:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", false)]
    [InlineData("-1:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", false)]
    [InlineData("12:abcdef", false)]
    [InlineData("12:zzcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", false)]
    [InlineData("12:ab:cd", false)]
    public void An_anchor_is_read_as_a_positive_id_and_64_hex_digits(string text, bool valid)
    {
        Assert.Equal(valid, AuditChainHead.TryParse(text, out var anchor));
        if (valid)
        {
            Assert.Equal(anchor!.Hash.ToLowerInvariant(), anchor.Hash);
            Assert.Equal(text.Trim().ToLowerInvariant(), anchor.ToString());
        }
    }
}
