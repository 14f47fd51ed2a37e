using System.Reflection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using RwePortal.Application.Common;
using RwePortal.Application.Privacy;
using RwePortal.Application.Tenancy;

namespace RwePortal.Application.Data;

/// <summary>
/// The app database (schema <c>app</c>): Identity, tenants and everything the portal owns. Entities that are
/// <see cref="ITenantOwned"/> are filtered by the context's <see cref="Scope"/>; a context nobody bound to a tenant
/// sees none of them. Handlers get bound contexts from <see cref="TenantDbContextFactory"/>.
/// </summary>
public sealed class AppDbContext(DbContextOptions<AppDbContext> options)
    : IdentityUserContext<ApplicationUser, Guid>(options), IDataProtectionKeyContext
{
    public const string Schema = "app";

    private static readonly MethodInfo ApplyTenantFilterMethod =
        typeof(AppDbContext).GetMethod(nameof(ApplyTenantFilter), BindingFlags.NonPublic | BindingFlags.Instance)!;

    /// <summary>The tenant this context works for; also sent to PostgreSQL for row-level security on every connection open.</summary>
    public TenantScope Scope { get; private set; } = TenantScope.None;

    // Read by the query filters: EF Core evaluates them against the context that runs the query.
    private Guid? CurrentTenantId => Scope.TenantId;

    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<TenantMembership> TenantMemberships => Set<TenantMembership>();

    public DbSet<TenantDataSourceGrant> DataSourceGrants => Set<TenantDataSourceGrant>();

    public DbSet<RegisteredDataSource> DataSources => Set<RegisteredDataSource>();

    /// <summary>Each tenant's settings (its small-cell threshold); a tenant without a row has the defaults.</summary>
    public DbSet<TenantSettings> TenantSettings => Set<TenantSettings>();

    /// <summary>The one secret small-cell noise is drawn with.</summary>
    public DbSet<SmallCellNoiseKey> SmallCellNoiseKeys => Set<SmallCellNoiseKey>();

    /// <summary>The portal's data-protection key ring (cookies, antiforgery tokens), so a restart keeps everyone signed in.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    /// <summary>Saved subgroups (current state); their revisions are <see cref="SavedSubgroupRevisions"/>.</summary>
    public DbSet<SavedSubgroup> SavedSubgroups => Set<SavedSubgroup>();

    public DbSet<SavedSubgroupRevision> SavedSubgroupRevisions => Set<SavedSubgroupRevision>();

    /// <summary>Saved concept sets (current state); their revisions are <see cref="SavedConceptSetRevisions"/>.</summary>
    public DbSet<SavedConceptSet> SavedConceptSets => Set<SavedConceptSet>();

    public DbSet<SavedConceptSetRevision> SavedConceptSetRevisions => Set<SavedConceptSetRevision>();

    /// <summary>Target-trial-emulation protocols; their content is in <see cref="ProtocolVersions"/>.</summary>
    public DbSet<Protocol> Protocols => Set<Protocol>();

    public DbSet<ProtocolVersion> ProtocolVersions => Set<ProtocolVersion>();

    public DbSet<ProtocolRevision> ProtocolRevisions => Set<ProtocolRevision>();

    public DbSet<ProtocolReview> ProtocolReviews => Set<ProtocolReview>();

    public DbSet<ProtocolSignature> ProtocolSignatures => Set<ProtocolSignature>();

    public DbSet<ProtocolAmendment> ProtocolAmendments => Set<ProtocolAmendment>();

    /// <summary>Binds a fresh context to a tenant. Once only, before its first query.</summary>
    internal void BindTo(TenantScope scope)
    {
        if (Scope != TenantScope.None)
        {
            throw new InvalidOperationException("This context is already bound to a tenant scope.");
        }

        Scope = scope;
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.HasDefaultSchema(Schema);

        builder.Entity<ApplicationUser>(user =>
        {
            user.Property(u => u.DisplayName).HasMaxLength(200);
        });

        builder.Entity<DataProtectionKey>(key => key.ToTable("data_protection_keys"));

        builder.Entity<Tenant>(tenant =>
        {
            tenant.Property(t => t.Name).HasMaxLength(200);
            tenant.Property(t => t.Slug).HasMaxLength(64);
            tenant.HasIndex(t => t.Slug).IsUnique();
            tenant.HasIndex(t => t.Name).IsUnique();
        });

        builder.Entity<TenantMembership>(membership =>
        {
            membership.Property(m => m.Role).HasConversion<string>().HasMaxLength(32);
            membership.HasIndex(m => new { m.TenantId, m.UserId, m.Role }).IsUnique();
            membership.HasIndex(m => m.UserId);
            membership.HasOne<Tenant>().WithMany().HasForeignKey(m => m.TenantId).OnDelete(DeleteBehavior.Cascade);
            membership.HasOne<ApplicationUser>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<RegisteredDataSource>(source =>
        {
            // The warehouse owns this table's DDL (db/app/data_sources.sql); AppMigrator creates it before migrating.
            source.ToTable("data_sources", Schema, table => table.ExcludeFromMigrations());
            source.Property(s => s.RowCounts).HasColumnType("jsonb");
            source.Property(s => s.CustodianTenantId).HasColumnName("custodian_tenant_id");
        });

        builder.Entity<TenantDataSourceGrant>(grant =>
        {
            grant.ToTable("tenant_data_source_grants");
            grant.Property(g => g.Purposes).HasColumnType("text[]");
            grant.HasIndex(g => new { g.TenantId, g.DataSourceId }).IsUnique();
            grant.HasIndex(g => g.DataSourceId);
            grant.HasOne<Tenant>().WithMany().HasForeignKey(g => g.TenantId).OnDelete(DeleteBehavior.Cascade);
            grant.HasOne<RegisteredDataSource>().WithMany().HasForeignKey(g => g.DataSourceId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<TenantSettings>(settings =>
        {
            settings.ToTable("tenant_settings", table => table.HasCheckConstraint(
                "ck_tenant_settings_small_cell_threshold", $"small_cell_threshold >= {SmallCellPolicy.MinimumThreshold}"));
            settings.HasKey(s => s.TenantId);
            settings.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SmallCellNoiseKey>(key =>
        {
            key.ToTable("small_cell_noise_key", table =>
            {
                table.HasCheckConstraint("ck_small_cell_noise_key_single_row", $"id = {SmallCellNoiseKey.SingleId}");
                table.HasCheckConstraint("ck_small_cell_noise_key_length", "octet_length(key) >= 32");
            });
            key.Property(k => k.Id).ValueGeneratedNever();
        });

        ConfigureLibrary(builder);
        ConfigureProtocols(builder);

        foreach (var entity in builder.Model.GetEntityTypes()
            .Where(type => typeof(ITenantOwned).IsAssignableFrom(type.ClrType))
            .ToList())
        {
            ApplyTenantFilterMethod.MakeGenericMethod(entity.ClrType).Invoke(this, [builder]);
        }
    }

    /// <summary>The tenant's library: saved subgroups and concept sets, each with append-only revisions.</summary>
    private static void ConfigureLibrary(ModelBuilder builder)
    {
        builder.Entity<SavedSubgroup>(subgroup =>
        {
            subgroup.ToTable("saved_subgroups");
            subgroup.Property(s => s.Name).HasMaxLength(200);
            subgroup.Property(s => s.Description).HasMaxLength(2000);
            subgroup.Property(s => s.Visibility).HasConversion<string>().HasMaxLength(16);
            subgroup.Property(s => s.ReferencedSubgroups).HasColumnType("uuid[]");
            subgroup.Property(s => s.ReferencedConceptSets).HasColumnType("uuid[]");
            subgroup.HasIndex(s => new { s.TenantId, s.OwnerId });
            subgroup.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SavedSubgroupRevision>(revision =>
        {
            revision.ToTable("saved_subgroup_revisions");
            revision.Property(r => r.Name).HasMaxLength(200);
            revision.Property(r => r.Description).HasMaxLength(2000);
            revision.Property(r => r.Visibility).HasConversion<string>().HasMaxLength(16);
            revision.Property(r => r.VocabularySource).HasMaxLength(64);
            revision.Property(r => r.VocabularyVersion).HasMaxLength(255);
            revision.HasIndex(r => new { r.SubgroupId, r.Revision }).IsUnique();
            revision.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
            revision.HasOne<SavedSubgroup>().WithMany().HasForeignKey(r => r.SubgroupId).OnDelete(DeleteBehavior.NoAction);
        });

        builder.Entity<SavedConceptSet>(set =>
        {
            set.ToTable("saved_concept_sets");
            set.Property(s => s.Name).HasMaxLength(200);
            set.Property(s => s.Description).HasMaxLength(2000);
            set.Property(s => s.Visibility).HasConversion<string>().HasMaxLength(16);
            set.HasIndex(s => new { s.TenantId, s.OwnerId });
            set.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<SavedConceptSetRevision>(revision =>
        {
            revision.ToTable("saved_concept_set_revisions");
            revision.Property(r => r.Name).HasMaxLength(200);
            revision.Property(r => r.Description).HasMaxLength(2000);
            revision.Property(r => r.Visibility).HasConversion<string>().HasMaxLength(16);
            revision.Property(r => r.Items).HasColumnType("jsonb");
            revision.Property(r => r.VocabularySource).HasMaxLength(64);
            revision.Property(r => r.VocabularyVersion).HasMaxLength(255);
            revision.HasIndex(r => new { r.ConceptSetId, r.Revision }).IsUnique();
            revision.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
            revision.HasOne<SavedConceptSet>().WithMany().HasForeignKey(r => r.ConceptSetId).OnDelete(DeleteBehavior.NoAction);
        });
    }

    /// <summary>Protocols and their governance records; the lock and append-only rules are in db/app/protocols.sql.</summary>
    private static void ConfigureProtocols(ModelBuilder builder)
    {
        builder.Entity<Protocol>(protocol =>
        {
            protocol.ToTable("protocols");
            protocol.Property(p => p.Title).HasMaxLength(300);
            protocol.Property(p => p.ImportedFrom).HasColumnType("jsonb");
            protocol.HasIndex(p => p.TenantId);
            protocol.HasOne<Tenant>().WithMany().HasForeignKey(p => p.TenantId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<ProtocolVersion>(version =>
        {
            version.ToTable("protocol_versions", table =>
            {
                table.HasCheckConstraint("ck_protocol_versions_version", "version >= 1");
                table.HasCheckConstraint(
                    "ck_protocol_versions_state", "state IN ('Draft', 'InReview', 'Approved', 'Rejected', 'Superseded')");
                table.HasCheckConstraint(
                    "ck_protocol_versions_hash", "content_hash IS NULL OR content_hash ~ '^[0-9a-f]{64}$'");
            });
            version.Property(v => v.State).HasConversion<string>().HasMaxLength(16);
            version.Property(v => v.ContentHash).HasMaxLength(64);
            version.HasIndex(v => new { v.ProtocolId, v.Version }).IsUnique();

            // One approved (protocol of record) version per protocol at a time.
            version.HasIndex(v => v.ProtocolId).IsUnique().HasFilter("state = 'Approved'").HasDatabaseName("ux_protocol_versions_one_approved");
            version.HasOne<Tenant>().WithMany().HasForeignKey(v => v.TenantId).OnDelete(DeleteBehavior.Cascade);
            version.HasOne<Protocol>().WithMany().HasForeignKey(v => v.ProtocolId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<ProtocolRevision>(revision =>
        {
            revision.ToTable("protocol_revisions");
            revision.HasIndex(r => new { r.VersionId, r.Revision }).IsUnique();
            revision.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
            revision.HasOne<ProtocolVersion>().WithMany().HasForeignKey(r => r.VersionId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<ProtocolReview>(review =>
        {
            review.ToTable("protocol_reviews");
            review.Property(r => r.Decision).HasConversion<string>().HasMaxLength(16);
            review.Property(r => r.Comment).HasMaxLength(4000);
            review.Property(r => r.ContentHash).HasMaxLength(64);
            review.HasIndex(r => r.VersionId);
            review.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
            review.HasOne<ProtocolVersion>().WithMany().HasForeignKey(r => r.VersionId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<ProtocolSignature>(signature =>
        {
            signature.ToTable("protocol_signatures");
            signature.Property(s => s.PrintedName).HasMaxLength(300);
            signature.Property(s => s.Meaning).HasMaxLength(200);
            signature.Property(s => s.ContentHash).HasMaxLength(64);
            signature.HasIndex(s => s.VersionId);
            signature.HasOne<Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
            signature.HasOne<ProtocolVersion>().WithMany().HasForeignKey(s => s.VersionId).OnDelete(DeleteBehavior.Restrict);
        });

        builder.Entity<ProtocolAmendment>(amendment =>
        {
            amendment.ToTable("protocol_amendments");
            amendment.Property(a => a.Reason).HasMaxLength(4000);
            amendment.HasIndex(a => new { a.ProtocolId, a.ToVersion }).IsUnique();
            amendment.HasOne<Tenant>().WithMany().HasForeignKey(a => a.TenantId).OnDelete(DeleteBehavior.Cascade);
            amendment.HasOne<Protocol>().WithMany().HasForeignKey(a => a.ProtocolId).OnDelete(DeleteBehavior.Restrict);
        });
    }

    private void ApplyTenantFilter<TEntity>(ModelBuilder builder)
        where TEntity : class, ITenantOwned =>
        builder.Entity<TEntity>().HasQueryFilter(row => row.TenantId == CurrentTenantId);
}
