using Bunit;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Tenancy;
using RwePortal.Web.Features.Tenancy;
using RwePortal.Web.Tests.Features.Users;

namespace RwePortal.Web.Tests.Features.Tenancy;

/// <summary>The TenantAdmin's threshold field on the users page: what it says, what it sends, what a refusal does.</summary>
public sealed class SmallCellThresholdSettingTests : BunitContext, IAsyncLifetime
{
    private readonly FakeMediator _mediator = new();
    private int _stored = 11;

    public SmallCellThresholdSettingTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        _mediator
            .Answer<GetSmallCellThreshold.Query, Result<GetSmallCellThreshold.Response>>(_ =>
                new GetSmallCellThreshold.Response(_stored, _stored == 11, 5, 100, 3, null))
            .Answer<SetSmallCellThreshold.Command, Result<SetSmallCellThreshold.Response>>(command =>
            {
                if (command.Threshold == 7)
                {
                    return new Error("Auth.Forbidden", "You do not have the permission 'ManageTenantUsers' in this tenant.");
                }

                var previous = _stored;
                _stored = command.Threshold;
                return new SetSmallCellThreshold.Response(command.Threshold, previous);
            });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private IRenderedComponent<SmallCellThresholdSetting> RenderSetting()
    {
        Render<MudSnackbarProvider>();
        return Render<SmallCellThresholdSetting>();
    }

    private static string Summary(IRenderedComponent<SmallCellThresholdSetting> setting) =>
        setting.Find("[data-testid=smallcell-threshold-summary]").TextContent.Trim();

    [Fact]
    public void The_admin_sees_the_default_and_saving_5_sends_it_and_shows_the_new_rule()
    {
        var setting = RenderSetting();
        Assert.Contains("counts from 1 to 10 are shown as \"<11\" (default)", Summary(setting), StringComparison.Ordinal);
        Assert.True(setting.Find("button[data-testid=smallcell-threshold-save]").HasAttribute("disabled"));

        setting.Find("[data-testid=smallcell-threshold-input] input, input[data-testid=smallcell-threshold-input]").Change("5");
        setting.Find("button[data-testid=smallcell-threshold-save]").Click();

        setting.WaitForAssertion(() => Assert.Contains("counts from 1 to 4 are shown as \"<5\".", Summary(setting), StringComparison.Ordinal));
        Assert.Equal(5, Assert.Single(_mediator.Sent.OfType<SetSmallCellThreshold.Command>()).Threshold);
    }

    [Fact]
    public void The_field_never_sends_a_threshold_below_5()
    {
        var setting = RenderSetting();

        setting.Find("[data-testid=smallcell-threshold-input] input, input[data-testid=smallcell-threshold-input]").Change("3");
        setting.Find("button[data-testid=smallcell-threshold-save]").Click();

        setting.WaitForAssertion(() => Assert.Equal(5, Assert.Single(_mediator.Sent.OfType<SetSmallCellThreshold.Command>()).Threshold));
    }

    [Fact]
    public void A_refused_change_leaves_the_rule_as_it_was_and_says_why()
    {
        var setting = RenderSetting();

        setting.Find("[data-testid=smallcell-threshold-input] input, input[data-testid=smallcell-threshold-input]").Change("7");
        setting.Find("button[data-testid=smallcell-threshold-save]").Click();

        setting.WaitForAssertion(() => Assert.Contains("ManageTenantUsers", Services.GetRequiredService<ISnackbar>().ShownSnackbars.Single().Message, StringComparison.Ordinal));
        Assert.Contains("\"<11\" (default)", Summary(setting), StringComparison.Ordinal);
        Assert.Equal(11, _stored);
    }
}
