using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Security;

/// <summary>Asking for the password again (electronic signatures): checked by Identity, failures count towards lockout.</summary>
[Collection(AppCollection.Name)]
public sealed class ReauthenticationServiceTests(AppFixture fixture)
{
    private async Task<ReauthenticationOutcome> VerifyAsync(Guid userId, string password)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IReauthenticationService>().VerifyAsync(userId, password);
    }

    private async Task<ApplicationUser> NewUserAsync() =>
        await fixture.CreateUserAsync(AppFixture.UniqueEmail("reauth"), await fixture.TenantIdAsync("acme"), TenantRole.StudyLead);

    [Fact]
    public async Task The_right_password_is_verified_and_clears_earlier_failures()
    {
        var user = await NewUserAsync();
        await VerifyAsync(user.Id, "wrong-password-1");

        var outcome = await VerifyAsync(user.Id, DemoSeeder.Password);

        Assert.Equal(ReauthenticationOutcome.Verified, outcome);
        Assert.Equal(0, (await fixture.FindUserAsync(user.Email!)).AccessFailedCount);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_counted_towards_lockout()
    {
        var user = await NewUserAsync();

        var outcome = await VerifyAsync(user.Id, "wrong-password-1");

        Assert.Equal(ReauthenticationOutcome.WrongPassword, outcome);
        Assert.Equal(1, (await fixture.FindUserAsync(user.Email!)).AccessFailedCount);
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_and_then_even_the_right_one_is_refused()
    {
        var user = await NewUserAsync();
        var outcomes = new List<ReauthenticationOutcome>();
        for (var attempt = 1; attempt <= IdentitySetup.MaxFailedSignIns; attempt++)
        {
            outcomes.Add(await VerifyAsync(user.Id, $"wrong-password-{attempt}"));
        }

        var right = await VerifyAsync(user.Id, DemoSeeder.Password);

        Assert.All(outcomes[..^1], o => Assert.Equal(ReauthenticationOutcome.WrongPassword, o));
        Assert.Equal(ReauthenticationOutcome.LockedOut, outcomes[^1]);
        Assert.Equal(ReauthenticationOutcome.LockedOut, right);
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        Assert.True(await users.IsLockedOutAsync((await users.FindByIdAsync(user.Id.ToString()))!));
    }

    [Fact]
    public async Task A_disabled_or_unknown_account_is_not_allowed()
    {
        var user = await NewUserAsync();
        await using (var scope = fixture.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            var tracked = (await users.FindByIdAsync(user.Id.ToString()))!;
            tracked.IsDisabled = true;
            await users.UpdateAsync(tracked);
        }

        Assert.Equal(ReauthenticationOutcome.NotAllowed, await VerifyAsync(user.Id, DemoSeeder.Password));
        Assert.Equal(ReauthenticationOutcome.NotAllowed, await VerifyAsync(Guid.NewGuid(), DemoSeeder.Password));
    }
}
