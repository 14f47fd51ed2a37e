using Bunit;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Users;
using RwePortal.Application.Security;
using RwePortal.Web.Features.Users;

namespace RwePortal.Web.Tests.Features.Users;

public sealed class UsersPageTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Admin =
        new(Guid.NewGuid(), "tenantadmin@acme.test", "Acme Admin", false, Guid.NewGuid(), "Acme Pharma", [TenantRole.TenantAdmin])
        {
            SignedInWithSecondFactor = true,
        };

    private static readonly ListTenantUsers.Item Me =
        new(Admin.UserId, Admin.Email, Admin.DisplayName, [TenantRole.TenantAdmin], false, true, false, IsYou: true);

    private static readonly ListTenantUsers.Item Analyst =
        new(Guid.NewGuid(), "analyst@acme.test", "Ann Analyst", [TenantRole.Analyst], false, false, false, IsYou: false);

    private static readonly ListTenantUsers.Item Disabled =
        new(Guid.NewGuid(), "gone@acme.test", "Gone Lead", [TenantRole.StudyLead, TenantRole.Analyst], true, true, false, IsYou: false);

    private readonly FakeMediator _mediator = new();

    public UsersPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        _mediator
            .Answer<ListTenantUsers.Query, Result<ListTenantUsers.Response>>(query =>
            {
                var items = new[] { Me, Analyst, Disabled }
                    .Where(u => query.Search is null || u.Email.Contains(query.Search, StringComparison.OrdinalIgnoreCase))
                    .ToList();
                return new ListTenantUsers.Response(items, items.Count);
            })
            .Answer<SetTenantUserDisabled.Command, Result<SetTenantUserDisabled.Response>>(command =>
                new SetTenantUserDisabled.Response(command.UserId, command.Disabled))
            .Answer<RwePortal.Application.Features.Tenancy.GetSmallCellThreshold.Query, Result<RwePortal.Application.Features.Tenancy.GetSmallCellThreshold.Response>>(_ =>
                new RwePortal.Application.Features.Tenancy.GetSmallCellThreshold.Response(11, true, 5, 100, 3, null));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's popover services dispose asynchronously only.
    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private IRenderedComponent<UsersPage> RenderPage()
    {
        Render<MudPopoverProvider>();
        return Render<UsersPage>(parameters => parameters.AddCascadingValue(Admin));
    }

    private static IEnumerable<AngleSharp.Dom.IElement> Row(IRenderedComponent<UsersPage> page, string email) =>
        page.FindAll("tr").Where(row => row.TextContent.Contains(email, StringComparison.Ordinal));

    [Fact]
    public void The_page_lists_the_tenants_users_with_their_roles_and_status()
    {
        var page = RenderPage();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=user-email]").Count));
        Assert.Equal(["Acme Admin", "Ann Analyst", "Gone Lead"], page.FindAll("[data-testid=user-name]").Select(e => e.TextContent));
        Assert.Contains("StudyLead", Row(page, "gone@acme.test").Single().TextContent, StringComparison.Ordinal);
        Assert.Contains("Disabled", Row(page, "gone@acme.test").Single().TextContent, StringComparison.Ordinal);
        Assert.Contains("Active", Row(page, "analyst@acme.test").Single().TextContent, StringComparison.Ordinal);
        var query = _mediator.Sent.OfType<ListTenantUsers.Query>().First();
        Assert.Equal(0, query.Page);
        Assert.Equal(25, query.PageSize);
    }

    [Fact]
    public void Each_other_user_has_role_disable_and_remove_actions_and_the_admin_has_none_on_themselves()
    {
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=user-email]").Count));

        var analyst = Row(page, "analyst@acme.test").Single();
        var disabled = Row(page, "gone@acme.test").Single();
        var me = Row(page, "tenantadmin@acme.test").Single();

        Assert.NotNull(analyst.QuerySelector("[data-testid=user-roles]"));
        Assert.NotNull(analyst.QuerySelector("[data-testid=user-disable]"));
        Assert.NotNull(analyst.QuerySelector("[data-testid=user-remove]"));
        Assert.Null(analyst.QuerySelector("[data-testid=user-reset-2fa]"));
        Assert.NotNull(disabled.QuerySelector("[data-testid=user-enable]"));
        Assert.NotNull(disabled.QuerySelector("[data-testid=user-reset-2fa]"));
        Assert.Null(me.QuerySelector("button"));
        Assert.NotEmpty(page.FindAll("[data-testid=users-add]"));
    }

    [Fact]
    public void Enabling_a_disabled_user_sends_the_command_for_that_user()
    {
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=user-email]").Count));

        Row(page, "gone@acme.test").Single().QuerySelector("[data-testid=user-enable]")!.Click();

        page.WaitForAssertion(() =>
        {
            var command = Assert.Single(_mediator.Sent.OfType<SetTenantUserDisabled.Command>());
            Assert.Equal(Disabled.UserId, command.UserId);
            Assert.False(command.Disabled);
        });
    }

    [Fact]
    public void A_new_one_time_password_is_issued_after_confirmation_and_shown_once_to_the_admin()
    {
        _mediator.Answer<IssueTenantUserOneTimePassword.Command, Result<IssueTenantUserOneTimePassword.Response>>(command =>
            new IssueTenantUserOneTimePassword.Response(command.UserId, "Xk7#pQ2mZr9!aB4dE6fH", DateTimeOffset.UtcNow.AddHours(72)));
        var dialogs = Render<MudDialogProvider>();
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=user-email]").Count));

        Row(page, "analyst@acme.test").Single().QuerySelector("[data-testid=user-new-password]")!.Click();
        dialogs.WaitForAssertion(() => Assert.Contains("72 hours", dialogs.Markup, StringComparison.Ordinal));
        Assert.Empty(_mediator.Sent.OfType<IssueTenantUserOneTimePassword.Command>());
        dialogs.FindAll("button").Single(b => b.TextContent.Contains("Replace password", StringComparison.Ordinal)).Click();

        dialogs.WaitForAssertion(() => Assert.Equal("Xk7#pQ2mZr9!aB4dE6fH", dialogs.Find("[data-testid=issued-password]").TextContent));
        var command = Assert.Single(_mediator.Sent.OfType<IssueTenantUserOneTimePassword.Command>());
        Assert.Equal(Analyst.UserId, command.UserId);
    }

    [Fact]
    public void Searching_asks_the_server_for_matching_users()
    {
        var page = RenderPage();
        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=user-email]").Count));

        page.Find("input[data-testid=users-search]").Input("analyst");

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=user-email]")), TimeSpan.FromSeconds(3));
        Assert.Contains(_mediator.Sent.OfType<ListTenantUsers.Query>(), q => q.Search == "analyst");
    }

    [Fact]
    public void A_failed_result_shows_a_snackbar_instead_of_throwing()
    {
        _mediator.Answer<ListTenantUsers.Query, Result<ListTenantUsers.Response>>(_ => Error.Forbidden(nameof(Permission.ManageTenantUsers)));
        Render<MudSnackbarProvider>();

        var page = RenderPage();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=users-empty]")));
        var snackbar = Services.GetRequiredService<ISnackbar>();
        Assert.Contains(snackbar.ShownSnackbars, s => s.Message!.Contains("ManageTenantUsers", StringComparison.Ordinal));
    }
}
