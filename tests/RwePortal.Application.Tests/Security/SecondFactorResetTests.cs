using System.Security.Claims;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Users;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Security;

/// <summary>
/// A reset second factor (by the TenantAdmin, or by the person on Manage/ResetAuthenticator) leaves no session with
/// administrative permissions and no recovery code that signs in, until a new authenticator is enrolled.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class SecondFactorResetTests(AppFixture fixture) : IAsyncLifetime
{
    private static readonly string AcmeAdmin = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin);
    private Guid _acme;

    public async Task InitializeAsync() => _acme = await fixture.TenantIdAsync("acme");

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task An_admin_who_resets_their_own_authenticator_keeps_no_admin_permission_in_the_refreshed_session()
    {
        var email = await EnrolledTenantAdminAsync();
        await using var request = fixture.SignIns.Begin();
        var admin = await request.FindAsync(email);
        await request.SignIn.SignInWithClaimsAsync(admin, isPersistent: false, [new Claim(RweClaims.AuthenticationMethod, SecondFactor.MultiFactorMethod)]);
        Assert.True(request.SessionUser.Has(Permission.ManageTenantUsers));

        // What Manage/ResetAuthenticator does: reset, then refresh the cookie (Identity copies the old amr).
        Assert.True((await SecondFactor.ResetAsync(request.Users, admin)).Succeeded);
        await request.SignIn.RefreshSignInAsync(admin);

        Assert.NotNull(request.Session);
        Assert.False(request.Session.HasClaim(RweClaims.AuthenticationMethod, SecondFactor.MultiFactorMethod));
        Assert.Equal("pwd", request.Session.FindFirstValue(RweClaims.AuthenticationMethod));
        Assert.False(request.SessionUser.Has(Permission.ManageTenantUsers));
        Assert.False(request.SessionUser.Has(Permission.ViewAudit));
        Assert.True(request.SessionUser.NeedsSecondFactor);
    }

    [Fact]
    public async Task After_the_tenant_admin_resets_it_a_password_sign_in_is_password_only_and_gets_no_admin_permission()
    {
        var email = await EnrolledTenantAdminAsync();
        await ResetAsAcmeAdminAsync(email);

        await using var request = fixture.SignIns.Begin();
        var result = await request.SignIn.PasswordSignInAsync(email, DemoSeeder.Password, isPersistent: false, lockoutOnFailure: true);

        Assert.True(result.Succeeded);
        Assert.Equal("pwd", request.Session!.FindFirstValue(RweClaims.AuthenticationMethod));
        Assert.Equal([TenantRole.TenantAdmin], request.SessionUser.Roles);
        Assert.False(request.SessionUser.Has(Permission.ManageTenantUsers));
        Assert.True(request.SessionUser.NeedsSecondFactor);

        // Even a session that claims the second factor is not given it while none is enrolled.
        var user = await request.FindAsync(email);
        await request.SignIn.SignInWithClaimsAsync(user, isPersistent: false, [new Claim(RweClaims.AuthenticationMethod, SecondFactor.MultiFactorMethod)]);
        Assert.False(request.SessionUser.Has(Permission.ManageTenantUsers));
    }

    [Fact]
    public async Task A_reset_by_the_tenant_admin_invalidates_every_recovery_code_even_after_enrolling_again()
    {
        var email = await EnrolledTenantAdminAsync();
        string[] oldCodes;
        await using (var arrange = fixture.SignIns.Begin())
        {
            oldCodes = [.. (await arrange.Users.GenerateNewTwoFactorRecoveryCodesAsync(await arrange.FindAsync(email), 10))!];
        }

        await ResetAsAcmeAdminAsync(email);

        await using (var check = fixture.SignIns.Begin())
        {
            var user = await check.FindAsync(email);
            Assert.Equal(0, await check.Users.CountRecoveryCodesAsync(user));

            // The person enrols a new authenticator: the old codes still must not sign in.
            await check.Users.SetTwoFactorEnabledAsync(user, true);
        }

        await using var request = fixture.SignIns.Begin();
        Assert.True((await request.SignIn.PasswordSignInAsync(email, DemoSeeder.Password, false, lockoutOnFailure: true)).RequiresTwoFactor);
        var withOldCode = await request.SignIn.TwoFactorRecoveryCodeSignInAsync(oldCodes[0]);
        Assert.False(withOldCode.Succeeded);
        Assert.Null(request.Session);
    }

    [Fact]
    public async Task A_self_reset_invalidates_the_recovery_codes_too()
    {
        var email = await EnrolledTenantAdminAsync();
        await using var request = fixture.SignIns.Begin();
        var user = await request.FindAsync(email);
        var oldCodes = (await request.Users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10))!.ToList();

        await SecondFactor.ResetAsync(request.Users, user);

        Assert.False(user.TwoFactorEnabled);
        Assert.Equal(0, await request.Users.CountRecoveryCodesAsync(user));
        Assert.False((await request.Users.RedeemTwoFactorRecoveryCodeAsync(user, oldCodes[1])).Succeeded);
    }

    [Fact]
    public async Task An_unreset_admin_signing_in_with_a_recovery_code_gets_the_admin_permissions()
    {
        var email = await EnrolledTenantAdminAsync();
        string code;
        await using (var arrange = fixture.SignIns.Begin())
        {
            code = (await arrange.Users.GenerateNewTwoFactorRecoveryCodesAsync(await arrange.FindAsync(email), 10))!.First();
        }

        await using var request = fixture.SignIns.Begin();
        Assert.True((await request.SignIn.PasswordSignInAsync(email, DemoSeeder.Password, false, lockoutOnFailure: true)).RequiresTwoFactor);
        Assert.True((await request.SignIn.TwoFactorRecoveryCodeSignInAsync(code)).Succeeded);

        Assert.True(request.SessionUser.Has(Permission.ManageTenantUsers));
    }

    /// <summary>A second TenantAdmin of Acme (confined to it), with an authenticator enrolled.</summary>
    private async Task<string> EnrolledTenantAdminAsync()
    {
        var email = AppFixture.UniqueEmail("admin2fa");
        await fixture.CreateUserAsync(email, _acme, TenantRole.TenantAdmin);
        await using var request = fixture.SignIns.Begin();
        var user = await request.FindAsync(email);
        await request.Users.ResetAuthenticatorKeyAsync(user);
        await request.Users.SetTwoFactorEnabledAsync(user, true);
        return email;
    }

    private async Task ResetAsAcmeAdminAsync(string email)
    {
        var target = await fixture.FindUserAsync(email);
        await fixture.SignInAsAsync(AcmeAdmin);
        (await fixture.SendAsync(new ResetTenantUserSecondFactor.Command(target.Id))).Unwrap();
    }
}
