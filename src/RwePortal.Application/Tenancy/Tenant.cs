namespace RwePortal.Application.Tenancy;

/// <summary>One client company. Its data never crosses to another tenant.</summary>
public sealed class Tenant
{
    public Guid Id { get; set; } = Guid.NewGuid();

    public string Name { get; set; } = "";

    /// <summary>Short, URL-safe, unique name (e.g. <c>acme</c>).</summary>
    public string Slug { get; set; } = "";

    public bool IsActive { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
