using Bunit;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.Protocols;
using RwePortal.Web.Features.Protocols;
using RwePortal.Web.Tests.Features.Subgroups;

namespace RwePortal.Web.Tests.Features.Protocols;

/// <summary>The approval dialog: the password again, the meaning shown; a wrong password signs nothing and says so.</summary>
public sealed class ApproveProtocolDialogTests : BunitContext, IAsyncLifetime
{
    private readonly BuilderMediator _mediator = new();

    public ApproveProtocolDialogTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private async Task<IRenderedComponent<MudDialogProvider>> OpenAsync()
    {
        var provider = Render<MudDialogProvider>();
        var parameters = new DialogParameters<ApproveProtocolDialog>
        {
            { d => d.ProtocolId, ProtocolTestData.Id },
            { d => d.Version, 2 },
            { d => d.Title, "Coxibs" },
            { d => d.ContentHash, new string('b', 64) },
        };
        await provider.InvokeAsync(() => Services.GetRequiredService<IDialogService>().ShowAsync<ApproveProtocolDialog>("Approve", parameters));
        return provider;
    }

    [Fact]
    public async Task A_wrong_password_shows_the_refusal_and_signs_nothing()
    {
        _mediator.Answer<ApproveProtocolVersion.Command, Result<ApproveProtocolVersion.Response>>(_ =>
            new Error("Protocol.WrongPassword", "The password is not right. Nothing was signed."));
        var dialog = await OpenAsync();

        Assert.Contains("approved as protocol of record", dialog.Find("[data-testid=approve-meaning]").TextContent, StringComparison.Ordinal);
        dialog.Find("[data-testid=approve-password] input, input[data-testid=approve-password]").Input("not-my-password");
        dialog.Find("button[data-testid=approve-sign]").Click();

        dialog.WaitForAssertion(() => Assert.Equal("The password is not right. Nothing was signed.", dialog.Find("[data-testid=approve-error]").TextContent.Trim()));
        Assert.Empty(dialog.FindAll("[data-testid=approve-signed]"));
        var sent = Assert.Single(_mediator.SentOf<ApproveProtocolVersion.Command>());
        Assert.Equal((ProtocolTestData.Id, 2, "not-my-password"), (sent.ProtocolId, sent.Version, sent.Password));
    }

    [Fact]
    public async Task A_signature_shows_the_printed_name_time_meaning_and_hash()
    {
        var signedAt = new DateTimeOffset(2026, 11, 30, 21, 5, 9, TimeSpan.Zero);
        _mediator.Answer<ApproveProtocolVersion.Command, Result<ApproveProtocolVersion.Response>>(_ =>
            new ApproveProtocolVersion.Response(2, new string('b', 64), Guid.NewGuid(), "Rita Reviewer", signedAt, "approved as protocol of record", 1));
        var dialog = await OpenAsync();

        dialog.Find("[data-testid=approve-password] input, input[data-testid=approve-password]").Input("correct horse");
        dialog.Find("button[data-testid=approve-sign]").Click();

        dialog.WaitForAssertion(() => Assert.Equal("Rita Reviewer", dialog.Find("[data-testid=approve-printed-name]").TextContent.Trim()));
        Assert.Equal("2026-11-30 21:05:09", dialog.Find("[data-testid=approve-signed-at]").TextContent.Trim());
        Assert.Contains(new string('b', 64), dialog.Find("[data-testid=approve-dialog]").TextContent, StringComparison.Ordinal);
    }
}
