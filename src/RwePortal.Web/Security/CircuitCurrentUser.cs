using Microsoft.AspNetCore.Components.Authorization;
using RwePortal.Application.Security;

namespace RwePortal.Web.Security;

/// <summary>The current user of a request or circuit, read from Blazor's authentication state.</summary>
internal sealed class CircuitCurrentUser(AuthenticationStateProvider authenticationStateProvider) : IUserContextSource
{
    public async Task<UserContext> GetAsync(CancellationToken cancellationToken = default)
    {
        var state = await authenticationStateProvider.GetAuthenticationStateAsync();
        return UserContextClaims.FromPrincipal(state.User);
    }
}
