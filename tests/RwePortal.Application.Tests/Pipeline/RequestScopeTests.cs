using MediatR;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using RwePortal.Application.Common;
using RwePortal.Application.Data;
using RwePortal.Application.Security;
using RwePortal.Application.Tests.Infrastructure;

namespace RwePortal.Application.Tests.Pipeline;

/// <summary>
/// The mediator sends each request in a DI scope of its own, bound to the caller: what a handler resolves lives for
/// one operation, even when the caller's scope (a Blazor Server circuit) lives for hours.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class RequestScopeTests(AppFixture fixture)
{
    [Fact]
    public async Task Two_requests_from_one_long_lived_scope_get_their_own_contexts_and_user_managers()
    {
        var caller = await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[0], TenantRole.Analyst));
        await using var provider = BuildWithProbe();
        await using var circuit = provider.CreateAsyncScope();
        var mediator = circuit.ServiceProvider.GetRequiredService<IMediator>();

        var first = (await mediator.Send(new Probe.Query())).Unwrap();
        var second = (await mediator.Send(new Probe.Query())).Unwrap();

        Assert.NotSame(first.Context, second.Context);
        Assert.NotSame(first.Users, second.Users);
        Assert.NotSame(circuit.ServiceProvider.GetRequiredService<AppDbContext>(), first.Context);
        Assert.True(first.ContextDisposed, "the request's context is disposed when the request ends");
        Assert.Same(first.Context, first.UserStoreContext);
        Assert.Equal(caller, first.User);
        Assert.Equal(caller.TenantId, first.Context.Scope.TenantId);
    }

    [Fact]
    public async Task A_worker_binds_its_scope_to_the_user_and_tenant_of_the_job()
    {
        var jobOwner = await fixture.SignInAsAsync(DemoSeeder.Email(DemoSeeder.Tenants[1], TenantRole.StudyLead));
        await fixture.SignInAsAsync(DemoSeeder.PlatformAdminEmail);
        await using var provider = BuildWithProbe();
        await using var job = provider.CreateAsyncScope();
        job.ServiceProvider.GetRequiredService<CurrentUser>().Bind(jobOwner);

        var seen = (await job.ServiceProvider.GetRequiredService<IMediator>().Send(new Probe.Query())).Unwrap();

        Assert.Equal(jobOwner, seen.User);
        Assert.Equal(jobOwner.TenantId, seen.Context.Scope.TenantId);
        Assert.Throws<InvalidOperationException>(() => job.ServiceProvider.GetRequiredService<CurrentUser>().Bind(UserContext.Anonymous));
    }

    private ServiceProvider BuildWithProbe()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddApplication(fixture.Database.AppConnectionString);
        services.AddRweIdentityCore();
        services.AddSingleton<IUserContextSource>(fixture.CurrentUser);
        services.AddScoped<IRequestHandler<Probe.Query, Result<Probe.Response>>, Probe.Handler>();
        return services.BuildServiceProvider();
    }

    /// <summary>A request that reports what its handler was given.</summary>
    public static class Probe
    {
        [RequiresPermission(Permission.ViewHome)]
        public sealed record Query : IRequest<Result<Response>>;

        public sealed class Response(AppDbContext context, UserManager<ApplicationUser> users, UserContext user, object? userStoreContext)
        {
            public AppDbContext Context { get; } = context;

            public UserManager<ApplicationUser> Users { get; } = users;

            public UserContext User { get; } = user;

            public object? UserStoreContext { get; } = userStoreContext;

            public bool ContextDisposed
            {
                get
                {
                    try
                    {
                        _ = Context.Model;
                        return false;
                    }
                    catch (ObjectDisposedException)
                    {
                        return true;
                    }
                }
            }
        }

        public sealed class Handler(AppDbContext context, UserManager<ApplicationUser> users, IUserStore<ApplicationUser> store, ICurrentUser currentUser)
            : IRequestHandler<Query, Result<Response>>
        {
            public async Task<Result<Response>> Handle(Query request, CancellationToken cancellationToken) =>
                new Response(
                    context,
                    users,
                    await currentUser.GetAsync(cancellationToken),
                    // Identity's EF store exposes the context it writes through.
                    store.GetType().GetProperty("Context")?.GetValue(store));
        }
    }
}
