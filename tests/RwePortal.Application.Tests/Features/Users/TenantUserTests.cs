using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Data;
using RwePortal.Application.Features.Users;
using RwePortal.Application.Security;
using RwePortal.Application.Tenancy;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Features.Users;

/// <summary>The user slices through the mediator, as the Acme TenantAdmin unless a test says otherwise.</summary>
[Collection(AppCollection.Name)]
public sealed class TenantUserTests(AppFixture fixture) : IAsyncLifetime
{
    private static readonly string AcmeAdmin = DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.TenantAdmin);
    private Guid _acme;
    private Guid _northwind;

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        _northwind = await fixture.TenantIdAsync("northwind");
        await fixture.SignInAsAsync(AcmeAdmin);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Adding_a_new_email_creates_the_account_with_a_one_time_password_that_signs_in()
    {
        var email = AppFixture.UniqueEmail("new");

        var added = (await fixture.SendAsync(new AddTenantUser.Command(email, "New Analyst", [TenantRole.Analyst]))).Unwrap();

        Assert.True(added.CreatedAccount);
        Assert.NotNull(added.OneTimePassword);
        Assert.True(added.OneTimePassword.Length >= 20);
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.FindByIdAsync(added.UserId.ToString());
        Assert.True(await users.CheckPasswordAsync(user!, added.OneTimePassword));
        Assert.Equal(_acme, user!.CurrentTenantId);
        var signedIn = await fixture.SignInAsAsync(email);
        Assert.Equal("Acme Pharma", signedIn.TenantName);
        Assert.Equal([TenantRole.Analyst], signedIn.Roles);
    }

    [Fact]
    public async Task Adding_an_existing_account_by_email_adds_a_membership_with_other_roles_and_no_password()
    {
        var email = AppFixture.UniqueEmail("shared", "northwind.test");
        var existing = await fixture.CreateUserAsync(email, _northwind, TenantRole.StudyLead);

        var added = (await fixture.SendAsync(new AddTenantUser.Command(email.ToUpperInvariant(), "Ignored", [TenantRole.Analyst]))).Unwrap();

        Assert.Equal(existing.Id, added.UserId);
        Assert.False(added.CreatedAccount);
        Assert.Null(added.OneTimePassword);
        var memberships = await fixture.MembershipsOfAsync(existing.Id);
        Assert.Contains((_northwind, TenantRole.StudyLead), memberships);
        Assert.Contains((_acme, TenantRole.Analyst), memberships);
    }

    [Fact]
    public async Task Adding_a_member_twice_is_refused()
    {
        var email = AppFixture.UniqueEmail("twice");
        await fixture.CreateUserAsync(email, _acme, TenantRole.Analyst);

        var result = await fixture.SendAsync(new AddTenantUser.Command(email, "Twice", [TenantRole.StudyLead]));

        Assert.Equal("User.AlreadyMember", result.Error!.Code);
    }

    [Fact]
    public async Task Adding_without_a_role_or_with_a_bad_email_fails_validation()
    {
        var noRole = await fixture.SendAsync(new AddTenantUser.Command(AppFixture.UniqueEmail("norole"), "No Role", []));
        var badEmail = await fixture.SendAsync(new AddTenantUser.Command("not-an-email", "Bad", [TenantRole.Analyst]));

        Assert.Equal("Validation.Failed", noRole.Error!.Code);
        Assert.Equal("Validation.Failed", badEmail.Error!.Code);
    }

    [Fact]
    public async Task The_list_shows_this_tenants_users_only_a_page_at_a_time()
    {
        var page = (await fixture.SendAsync(new ListTenantUsers.Query(0, 2))).Unwrap();
        var all = (await fixture.SendAsync(new ListTenantUsers.Query(0, ListTenantUsers.MaxPageSize))).Unwrap();

        Assert.Equal(2, page.Items.Count);
        Assert.True(page.TotalCount >= 3);
        Assert.Equal(page.TotalCount, all.Items.Count);
        Assert.DoesNotContain(all.Items, item => item.Email.EndsWith("@northwind.test", StringComparison.Ordinal));
        Assert.DoesNotContain(all.Items, item => item.Email == DemoSeeder.PlatformAdminEmail);
        var me = Assert.Single(all.Items, item => item.IsYou);
        Assert.Equal(AcmeAdmin, me.Email);
        Assert.Equal([TenantRole.TenantAdmin], me.Roles);
        Assert.True(me.TwoFactorEnabled);
    }

    [Fact]
    public async Task The_list_searches_by_name_and_by_email_without_wildcards_leaking()
    {
        var email = AppFixture.UniqueEmail("findme");
        var user = await fixture.CreateUserAsync(email, _acme, TenantRole.Analyst);
        await fixture.CreateUserAsync(AppFixture.UniqueEmail("findme", "northwind.test"), _northwind, TenantRole.Analyst);

        var byEmail = (await fixture.SendAsync(new ListTenantUsers.Query(0, 10, email[..12].ToUpperInvariant()))).Unwrap();
        var byName = (await fixture.SendAsync(new ListTenantUsers.Query(0, 10, user.DisplayName))).Unwrap();
        var wildcard = (await fixture.SendAsync(new ListTenantUsers.Query(0, 10, "%"))).Unwrap();

        Assert.Equal(user.Id, Assert.Single(byEmail.Items).UserId);
        Assert.Equal(user.Id, Assert.Single(byName.Items).UserId);
        Assert.Empty(wildcard.Items);
    }

    [Fact]
    public async Task Removing_a_role_changes_the_security_stamp_and_adding_one_does_not()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("roles"), _acme, TenantRole.Analyst);
        var stamp = (await fixture.FindUserAsync(user.Email!)).SecurityStamp;

        var added = (await fixture.SendAsync(new SetTenantUserRoles.Command(user.Id, [TenantRole.Analyst, TenantRole.StudyLead]))).Unwrap();
        var afterAdd = (await fixture.FindUserAsync(user.Email!)).SecurityStamp;
        var removed = (await fixture.SendAsync(new SetTenantUserRoles.Command(user.Id, [TenantRole.StudyLead]))).Unwrap();
        var afterRemove = (await fixture.FindUserAsync(user.Email!)).SecurityStamp;

        Assert.Equal([TenantRole.Analyst, TenantRole.StudyLead], added.Roles);
        Assert.False(added.SessionsEnded);
        Assert.Equal(stamp, afterAdd);
        Assert.Equal([TenantRole.StudyLead], removed.Roles);
        Assert.True(removed.SessionsEnded);
        Assert.NotEqual(afterAdd, afterRemove);
        Assert.Equal([TenantRole.StudyLead], (await fixture.SignInAsAsync(user.Email!)).Roles);
    }

    [Fact]
    public async Task An_admin_cannot_take_their_own_admin_role_or_disable_themselves()
    {
        var me = await fixture.SignInAsAsync(AcmeAdmin);

        var roles = await fixture.SendAsync(new SetTenantUserRoles.Command(me.UserId, [TenantRole.Analyst]));
        var disable = await fixture.SendAsync(new SetTenantUserDisabled.Command(me.UserId, true));

        Assert.Equal("User.Self", roles.Error!.Code);
        Assert.Equal("User.Self", disable.Error!.Code);
    }

    [Fact]
    public async Task Disabling_changes_the_security_stamp_and_refuses_sign_in_and_enabling_undoes_it()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("disable"), _acme, TenantRole.Analyst);

        var disabled = (await fixture.SendAsync(new SetTenantUserDisabled.Command(user.Id, true))).Unwrap();
        var afterDisable = await fixture.FindUserAsync(user.Email!);
        var enabled = (await fixture.SendAsync(new SetTenantUserDisabled.Command(user.Id, false))).Unwrap();

        Assert.True(disabled.IsDisabled);
        Assert.True(afterDisable.IsDisabled);
        Assert.NotEqual(user.SecurityStamp, afterDisable.SecurityStamp);
        Assert.False(enabled.IsDisabled);
        Assert.False((await fixture.FindUserAsync(user.Email!)).IsDisabled);
    }

    [Fact]
    public async Task An_account_also_used_in_another_tenant_is_removed_here_rather_than_disabled()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("both"), _acme, TenantRole.Analyst);
        await using (var db = await fixture.CreateDbContextAsync(_northwind))
        {
            db.TenantMemberships.Add(new TenantMembership { TenantId = _northwind, UserId = user.Id, Role = TenantRole.Analyst });
            await db.SaveChangesAsync();
        }

        var disable = await fixture.SendAsync(new SetTenantUserDisabled.Command(user.Id, true));
        var reset = await fixture.SendAsync(new ResetTenantUserSecondFactor.Command(user.Id));
        var removed = await fixture.SendAsync(new RemoveTenantUser.Command(user.Id));

        Assert.Equal("User.SharedAccount", disable.Error!.Code);
        Assert.Equal("User.SharedAccount", reset.Error!.Code);
        Assert.True(removed.Succeeded);
        var after = await fixture.FindUserAsync(user.Email!);
        Assert.False(after.IsDisabled);
        Assert.NotEqual(user.SecurityStamp, after.SecurityStamp);
        Assert.Equal([_northwind], (await fixture.MembershipsOfAsync(user.Id)).Select(m => m.TenantId));
    }

    [Fact]
    public async Task Resetting_the_second_factor_turns_it_off_with_a_new_key_and_a_new_stamp()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("totp"), _acme, TenantRole.StudyLead);
        await using var scope = fixture.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var tracked = (await users.FindByIdAsync(user.Id.ToString()))!;
        await users.ResetAuthenticatorKeyAsync(tracked);
        await users.SetTwoFactorEnabledAsync(tracked, true);
        var key = await users.GetAuthenticatorKeyAsync(tracked);
        var stamp = tracked.SecurityStamp;

        (await fixture.SendAsync(new ResetTenantUserSecondFactor.Command(user.Id))).Unwrap();

        var after = await fixture.FindUserAsync(user.Email!);
        Assert.False(after.TwoFactorEnabled);
        Assert.NotEqual(stamp, after.SecurityStamp);
        await using var fresh = fixture.Services.CreateAsyncScope();
        Assert.NotEqual(key, await fresh.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>().GetAuthenticatorKeyAsync(after));
    }

    [Fact]
    public async Task Removing_a_user_from_the_tenant_keeps_the_account_and_ends_their_sessions()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("remove"), _acme, TenantRole.Analyst, TenantRole.StudyLead);

        (await fixture.SendAsync(new RemoveTenantUser.Command(user.Id))).Unwrap();

        var after = await fixture.FindUserAsync(user.Email!);
        Assert.NotEqual(user.SecurityStamp, after.SecurityStamp);
        var list = (await fixture.SendAsync(new ListTenantUsers.Query(0, ListTenantUsers.MaxPageSize, user.Email))).Unwrap();
        Assert.Empty(list.Items);
        var again = await fixture.SendAsync(new RemoveTenantUser.Command(user.Id));
        Assert.Equal("User.NotFound", again.Error!.Code);
    }

    public static TheoryData<string> RequestsTakingAUserId() => ["roles", "disable", "enable", "reset", "remove"];

    [Theory]
    [MemberData(nameof(RequestsTakingAUserId))]
    public async Task Another_tenants_user_id_answers_not_found_and_changes_nothing(string request)
    {
        var other = await fixture.CreateUserAsync(AppFixture.UniqueEmail("other", "northwind.test"), _northwind, TenantRole.Analyst);

        var error = request switch
        {
            "roles" => (await fixture.SendAsync(new SetTenantUserRoles.Command(other.Id, [TenantRole.StudyLead]))).Error,
            "disable" => (await fixture.SendAsync(new SetTenantUserDisabled.Command(other.Id, true))).Error,
            "enable" => (await fixture.SendAsync(new SetTenantUserDisabled.Command(other.Id, false))).Error,
            "reset" => (await fixture.SendAsync(new ResetTenantUserSecondFactor.Command(other.Id))).Error,
            "remove" => (await fixture.SendAsync(new RemoveTenantUser.Command(other.Id))).Error,
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };

        Assert.Equal("User.NotFound", error!.Code);
        Assert.DoesNotContain("forbidden", error.Message, StringComparison.OrdinalIgnoreCase);
        var after = await fixture.FindUserAsync(other.Email!);
        Assert.Equal(other.SecurityStamp, after.SecurityStamp);
        Assert.False(after.IsDisabled);
        Assert.Equal([TenantRole.Analyst], (await fixture.MembershipsOfAsync(other.Id)).Select(m => m.Role));
    }

    [Fact]
    public async Task A_platform_admins_id_is_not_found_to_a_tenant_admin()
    {
        var admin = await fixture.FindUserAsync(DemoSeeder.PlatformAdminEmail);

        var result = await fixture.SendAsync(new SetTenantUserDisabled.Command(admin.Id, true));

        Assert.Equal("User.NotFound", result.Error!.Code);
    }

    [Theory]
    [InlineData("analyst@acme.test")]
    [InlineData("studylead@acme.test")]
    [InlineData("admin@rweportal.test")]
    public async Task Users_who_are_not_the_tenants_admin_are_refused(string email)
    {
        await fixture.SignInAsAsync(email);

        var list = await fixture.SendAsync(new ListTenantUsers.Query(0, 10));
        var add = await fixture.SendAsync(new AddTenantUser.Command(AppFixture.UniqueEmail("refused"), "Refused", [TenantRole.Analyst]));

        Assert.Equal("Auth.Forbidden", list.Error!.Code);
        Assert.Equal("Auth.Forbidden", add.Error!.Code);
    }

    [Fact]
    public async Task A_tenant_admin_signed_in_without_a_second_factor_is_refused()
    {
        await fixture.SignInAsAsync(AcmeAdmin, secondFactor: false);

        var result = await fixture.SendAsync(new ListTenantUsers.Query(0, 10));

        Assert.Equal("Auth.Forbidden", result.Error!.Code);
    }

    [Fact]
    public async Task A_role_change_is_audited_with_its_target_and_before_and_after()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("roles"), _acme, TenantRole.Analyst);

        (await fixture.SendAsync(new SetTenantUserRoles.Command(user.Id, [TenantRole.Analyst, TenantRole.StudyLead]))).Unwrap();

        var details = await fixture.OwnerSqlRowAsync<string>(
            "SELECT details::text FROM app.audit_event WHERE target = @target AND tenant_id = @tenant AND outcome = 'Success'",
            new { target = $"SetTenantUserRoles: user {user.Email} ({user.Id})", tenant = _acme });
        Assert.Contains("\"before\": {\"roles\": [\"Analyst\"]}", details);
        Assert.Contains("\"after\": {\"roles\": [\"Analyst\", \"StudyLead\"]}", details);
    }

    [Fact]
    public async Task A_role_change_whose_audit_event_cannot_be_written_is_not_made()
    {
        var user = await fixture.CreateUserAsync(AppFixture.UniqueEmail("noaudit"), _acme, TenantRole.Analyst);
        var marker = user.Id.ToString("N");
        // The trail refuses this one event (as a full disk or a crash would): the change must roll back with it.
        await fixture.OwnerSqlAsync($"""
            CREATE FUNCTION app.test_refuse_{marker}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.target LIKE '%{user.Id}%' AND NEW.outcome = 'Success' THEN
                    RAISE EXCEPTION 'the trail refuses this event';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_refuse_{marker} BEFORE INSERT ON app.audit_event
                FOR EACH ROW EXECUTE FUNCTION app.test_refuse_{marker}();
            """);
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => fixture.SendAsync(new SetTenantUserRoles.Command(user.Id, [TenantRole.Analyst, TenantRole.StudyLead])));
        }
        finally
        {
            await fixture.OwnerSqlAsync($"DROP TRIGGER test_refuse_{marker} ON app.audit_event; DROP FUNCTION app.test_refuse_{marker}();");
        }

        Assert.Equal([TenantRole.Analyst], (await fixture.MembershipsOfAsync(user.Id)).Select(m => m.Role));
    }
}
