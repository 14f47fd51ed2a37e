using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Tenants;
using RwePortal.Application.Features.Users;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Users;

/// <summary>
/// One-time passwords (a new person added by a TenantAdmin, the first admin of a new tenant, a new one issued by the
/// TenantAdmin) sign in for 72 hours, and only into a session that must change the password first.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class OneTimePasswordTests(AppFixture fixture) : IAsyncLifetime
{
    private static readonly string AcmeAdmin = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin);

    public async Task InitializeAsync() => await fixture.SignInAsAsync(AcmeAdmin);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_person_added_by_the_tenant_admin_gets_a_one_time_password_valid_for_72_hours_that_must_be_changed()
    {
        var before = DateTimeOffset.UtcNow;
        var added = (await fixture.SendAsync(new AddTenantUser.Command(AppFixture.UniqueEmail("otp"), "Otp Person", [TenantRole.Analyst]))).Unwrap();

        var user = await FindByIdAsync(added.UserId);
        Assert.True(user.PasswordMustChange);
        Assert.InRange(user.OneTimePasswordExpiresAt!.Value, before.AddHours(72), DateTimeOffset.UtcNow.AddHours(72));
    }

    [Fact]
    public async Task The_first_admin_of_a_new_tenant_gets_the_same_expiring_one_time_password()
    {
        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail);
        var slug = $"t{Guid.NewGuid():N}"[..12];
        var before = DateTimeOffset.UtcNow;

        var created = (await fixture.SendAsync(new CreateTenant.Command($"Tenant {slug}", slug, $"first@{slug}.test", "First Admin"))).Unwrap();

        var admin = await FindByIdAsync(created.AdminUserId);
        Assert.NotNull(created.OneTimePassword);
        Assert.True(admin.PasswordMustChange);
        Assert.InRange(admin.OneTimePasswordExpiresAt!.Value, before.AddHours(72), DateTimeOffset.UtcNow.AddHours(72));
        await using var request = fixture.SignIns.Begin();
        Assert.True((await request.SignIn.PasswordSignInAsync(admin.Email!, created.OneTimePassword, false, lockoutOnFailure: true)).Succeeded);
        Assert.True(request.Session!.HasClaim(RweSignInManager.PasswordMustChangeClaim, "true"));
    }

    [Fact]
    public async Task A_one_time_password_signs_in_only_to_a_session_that_must_change_it_and_the_change_ends_that()
    {
        var email = AppFixture.UniqueEmail("first");
        var added = (await fixture.SendAsync(new AddTenantUser.Command(email, "First Sign-in", [TenantRole.Analyst]))).Unwrap();

        await using var request = fixture.SignIns.Begin();
        Assert.True((await request.SignIn.PasswordSignInAsync(email, added.OneTimePassword!, false, lockoutOnFailure: true)).Succeeded);
        Assert.True(request.Session!.HasClaim(RweSignInManager.PasswordMustChangeClaim, "true"));

        var user = await request.FindAsync(email);
        var same = await OneTimePasswords.ChangeAsync(request.Users, user, added.OneTimePassword!, added.OneTimePassword!);
        Assert.False(same.Succeeded);
        Assert.True(user.PasswordMustChange);

        var wrong = await OneTimePasswords.ChangeAsync(request.Users, user, "Not!TheRightOne1", "Brand!NewPassw0rd");
        Assert.False(wrong.Succeeded);
        Assert.True((await FindByIdAsync(user.Id)).PasswordMustChange);

        Assert.True((await OneTimePasswords.ChangeAsync(request.Users, user, added.OneTimePassword!, "Brand!NewPassw0rd")).Succeeded);
        await request.SignIn.RefreshSignInAsync(user);

        Assert.False(request.Session!.HasClaim(RweSignInManager.PasswordMustChangeClaim, "true"));
        var stored = await FindByIdAsync(user.Id);
        Assert.False(stored.PasswordMustChange);
        Assert.Null(stored.OneTimePasswordExpiresAt);
    }

    [Fact]
    public async Task An_expired_one_time_password_does_not_sign_in_and_says_so_and_a_new_one_does()
    {
        var email = AppFixture.UniqueEmail("expired");
        var added = (await fixture.SendAsync(new AddTenantUser.Command(email, "Late Starter", [TenantRole.Analyst]))).Unwrap();
        await ExpireOneTimePasswordAsync(added.UserId);

        await using (var request = fixture.SignIns.Begin())
        {
            var result = await request.SignIn.PasswordSignInAsync(email, added.OneTimePassword!, false, lockoutOnFailure: true);

            Assert.Same(RweSignInManager.OneTimePasswordExpired, result);
            Assert.False(result.Succeeded);
            Assert.True(result.IsNotAllowed);
            Assert.Null(request.Session);
        }

        // A wrong password is still just wrong: the expiry is told only to someone who knows the password.
        await using (var request = fixture.SignIns.Begin())
        {
            var wrong = await request.SignIn.PasswordSignInAsync(email, "Wrong!Passw0rd99", false, lockoutOnFailure: true);
            Assert.NotSame(RweSignInManager.OneTimePasswordExpired, wrong);
            Assert.False(wrong.IsNotAllowed);
        }

        var issued = (await fixture.SendAsync(new IssueTenantUserOneTimePassword.Command(added.UserId))).Unwrap();

        Assert.NotEqual(added.OneTimePassword, issued.OneTimePassword);
        Assert.True(issued.ExpiresAt > DateTimeOffset.UtcNow.AddHours(71));
        await using var again = fixture.SignIns.Begin();
        Assert.False((await again.SignIn.PasswordSignInAsync(email, added.OneTimePassword!, false, lockoutOnFailure: false)).Succeeded);
        Assert.True((await again.SignIn.PasswordSignInAsync(email, issued.OneTimePassword, false, lockoutOnFailure: true)).Succeeded);
        Assert.True(again.Session!.HasClaim(RweSignInManager.PasswordMustChangeClaim, "true"));
    }

    [Fact]
    public async Task Issuing_a_new_one_time_password_ends_the_persons_sessions_and_is_refused_for_another_tenants_user_and_oneself()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("forgot"), await fixture.TenantIdAsync("acme"), TenantRole.StudyLead);
        var northwind = await fixture.CreateUserAsync(AppFixture.UniqueEmail("nw", "northwind.test"), await fixture.TenantIdAsync("northwind"), TenantRole.Analyst);
        var self = await fixture.FindUserAsync(AcmeAdmin);

        (await fixture.SendAsync(new IssueTenantUserOneTimePassword.Command(user.Id))).Unwrap();
        var other = await fixture.SendAsync(new IssueTenantUserOneTimePassword.Command(northwind.Id));
        var own = await fixture.SendAsync(new IssueTenantUserOneTimePassword.Command(self.Id));

        Assert.NotEqual(user.SecurityStamp, (await FindByIdAsync(user.Id)).SecurityStamp);
        Assert.Equal("User.NotFound", other.Error!.Code);
        Assert.Equal(northwind.PasswordHash, (await FindByIdAsync(northwind.Id)).PasswordHash);
        Assert.Equal("User.Self", own.Error!.Code);
    }

    [Fact]
    public async Task Only_the_tenant_admin_signed_in_with_a_second_factor_may_issue_a_one_time_password()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("victim"), await fixture.TenantIdAsync("acme"), TenantRole.Analyst);

        await fixture.SignInAsAsync(AcmeAdmin, secondFactor: false);
        var passwordOnly = await fixture.SendAsync(new IssueTenantUserOneTimePassword.Command(user.Id));
        await fixture.SignInAsAsync("analyst@acme.test");
        var analyst = await fixture.SendAsync(new IssueTenantUserOneTimePassword.Command(user.Id));

        Assert.Equal("Auth.Forbidden", passwordOnly.Error!.Code);
        Assert.Equal("Auth.Forbidden", analyst.Error!.Code);
        Assert.Equal(user.PasswordHash, (await FindByIdAsync(user.Id)).PasswordHash);
    }

    private async Task<ApplicationUser> FindByIdAsync(Guid id)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        return await users.FindByIdAsync(id.ToString()) ?? throw new InvalidOperationException($"No user {id}.");
    }

    private async Task ExpireOneTimePasswordAsync(Guid id)
    {
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = (await users.FindByIdAsync(id.ToString()))!;
        user.OneTimePasswordExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1);
        Assert.True((await users.UpdateAsync(user)).Succeeded);
    }
}
