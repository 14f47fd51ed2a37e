using System.Reflection;
using FluentValidation;
using MediatR;
using RwePortal.Application.Security;

namespace RwePortal.Application.Tests.Pipeline;

/// <summary>Every request declares its permission and has a validator, or this fails and names it.</summary>
public sealed class RequestConventionTests
{
    private static readonly Type[] Requests = typeof(DependencyInjection).Assembly.GetTypes()
        .Where(type => type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequest<>)))
        .ToArray();

    [Fact]
    public void The_application_has_requests_to_check() => Assert.NotEmpty(Requests);

    [Fact]
    public void Every_request_declares_the_permission_it_needs()
    {
        var undeclared = Requests.Where(type => type.GetCustomAttribute<RequiresPermissionAttribute>() is null)
            .Select(type => type.FullName).ToList();

        Assert.Empty(undeclared);
    }

    [Fact]
    public void Every_request_has_a_validator()
    {
        var validated = typeof(DependencyInjection).Assembly.GetTypes()
            .SelectMany(type => type.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IValidator<>))
            .Select(i => i.GetGenericArguments()[0])
            .ToHashSet();

        var missing = Requests.Where(type => !validated.Contains(type)).Select(type => type.FullName).ToList();

        Assert.Empty(missing);
    }
}
