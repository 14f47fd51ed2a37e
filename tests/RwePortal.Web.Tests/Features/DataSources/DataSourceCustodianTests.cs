using Bunit;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using RwePortal.Application.Common;
using RwePortal.Application.Features.DataSources;
using RwePortal.Application.Security;
using RwePortal.Web.Features.DataSources;
using RwePortal.Web.Tests.Features.Users;

namespace RwePortal.Web.Tests.Features.DataSources;

/// <summary>The data sources page names each source's consent custodian and offers the platform Admin a first one.</summary>
public sealed class DataSourceCustodianTests : BunitContext, IAsyncLifetime
{
    private static readonly UserContext Admin =
        new(Guid.NewGuid(), "admin@rweportal.test", "Platform Admin", true, Guid.NewGuid(), "Acme Pharma", [])
        {
            SignedInWithSecondFactor = true,
        };

    private readonly FakeMediator _mediator = new();

    public DataSourceCustodianTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IMediator>(_mediator);
        var northwind = Guid.NewGuid();
        _mediator
            .Answer<ListDataSources.Query, Result<IReadOnlyList<ListDataSources.Item>>>(_ => Result<IReadOnlyList<ListDataSources.Item>>.Success(
            [
                new(Guid.NewGuid(), "eunomia", "GiBleed", "5.4", null, 2694, []),
                new(Guid.NewGuid(), "registry", "New registry", "5.4", null, null, []),
            ]))
            .Answer<ListDataSourceCustodians.Query, Result<ListDataSourceCustodians.Response>>(_ => new ListDataSourceCustodians.Response(
                [new("eunomia", northwind, "Northwind Hospital"), new("registry", null, null)],
                [new(northwind, "Northwind Hospital")]));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    [Fact]
    public void A_held_source_names_its_custodian_and_only_a_source_without_one_offers_to_set_it()
    {
        Render<MudPopoverProvider>();
        var page = Render<DataSourcesPage>(parameters => parameters.AddCascadingValue(Admin));

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=source-custodian]")));
        Assert.Contains("Northwind Hospital", page.Find("[data-testid=source-custodian]").TextContent, StringComparison.Ordinal);
        Assert.Single(page.FindAll("[data-testid=source-no-custodian]"));
        Assert.Single(page.FindAll("[data-testid=source-custodian-set]"));
    }
}
