using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace RwePortal.Application.Data.Migrations
{
    /// <inheritdoc />
    public partial class ProtocolGovernance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "protocols",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    title = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    created_by = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    latest_version = table.Column<int>(type: "integer", nullable: false),
                    imported_from = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_protocols", x => x.id);
                    table.ForeignKey(
                        name: "fk_protocols_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "protocol_amendments",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    protocol_id = table.Column<Guid>(type: "uuid", nullable: false),
                    from_version = table.Column<int>(type: "integer", nullable: false),
                    to_version = table.Column<int>(type: "integer", nullable: false),
                    reason = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    author_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_protocol_amendments", x => x.id);
                    table.ForeignKey(
                        name: "fk_protocol_amendments_protocols_protocol_id",
                        column: x => x.protocol_id,
                        principalSchema: "app",
                        principalTable: "protocols",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_protocol_amendments_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "protocol_versions",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    protocol_id = table.Column<Guid>(type: "uuid", nullable: false),
                    version = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    document = table.Column<string>(type: "text", nullable: false),
                    content_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    revision = table.Column<int>(type: "integer", nullable: false),
                    created_by = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    submitted_by = table.Column<Guid>(type: "uuid", nullable: true),
                    submitted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    superseded_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    superseded_by_version = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_protocol_versions", x => x.id);
                    table.CheckConstraint("ck_protocol_versions_hash", "content_hash IS NULL OR content_hash ~ '^[0-9a-f]{64}$'");
                    table.CheckConstraint("ck_protocol_versions_state", "state IN ('Draft', 'InReview', 'Approved', 'Rejected', 'Superseded')");
                    table.CheckConstraint("ck_protocol_versions_version", "version >= 1");
                    table.ForeignKey(
                        name: "fk_protocol_versions_protocols_protocol_id",
                        column: x => x.protocol_id,
                        principalSchema: "app",
                        principalTable: "protocols",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_protocol_versions_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "protocol_reviews",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    version_id = table.Column<Guid>(type: "uuid", nullable: false),
                    reviewer_id = table.Column<Guid>(type: "uuid", nullable: false),
                    decision = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    comment = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    content_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    decided_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_protocol_reviews", x => x.id);
                    table.ForeignKey(
                        name: "fk_protocol_reviews_protocol_versions_version_id",
                        column: x => x.version_id,
                        principalSchema: "app",
                        principalTable: "protocol_versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_protocol_reviews_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "protocol_revisions",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    version_id = table.Column<Guid>(type: "uuid", nullable: false),
                    revision = table.Column<int>(type: "integer", nullable: false),
                    document = table.Column<string>(type: "text", nullable: false),
                    author_id = table.Column<Guid>(type: "uuid", nullable: false),
                    saved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_protocol_revisions", x => x.id);
                    table.ForeignKey(
                        name: "fk_protocol_revisions_protocol_versions_version_id",
                        column: x => x.version_id,
                        principalSchema: "app",
                        principalTable: "protocol_versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_protocol_revisions_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "protocol_signatures",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    version_id = table.Column<Guid>(type: "uuid", nullable: false),
                    signer_id = table.Column<Guid>(type: "uuid", nullable: false),
                    printed_name = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    signed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    meaning = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    content_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_protocol_signatures", x => x.id);
                    table.ForeignKey(
                        name: "fk_protocol_signatures_protocol_versions_version_id",
                        column: x => x.version_id,
                        principalSchema: "app",
                        principalTable: "protocol_versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_protocol_signatures_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_protocol_amendments_protocol_id_to_version",
                schema: "app",
                table: "protocol_amendments",
                columns: new[] { "protocol_id", "to_version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_protocol_amendments_tenant_id",
                schema: "app",
                table: "protocol_amendments",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_protocol_reviews_tenant_id",
                schema: "app",
                table: "protocol_reviews",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_protocol_reviews_version_id",
                schema: "app",
                table: "protocol_reviews",
                column: "version_id");

            migrationBuilder.CreateIndex(
                name: "ix_protocol_revisions_tenant_id",
                schema: "app",
                table: "protocol_revisions",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_protocol_revisions_version_id_revision",
                schema: "app",
                table: "protocol_revisions",
                columns: new[] { "version_id", "revision" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_protocol_signatures_tenant_id",
                schema: "app",
                table: "protocol_signatures",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_protocol_signatures_version_id",
                schema: "app",
                table: "protocol_signatures",
                column: "version_id");

            migrationBuilder.CreateIndex(
                name: "ix_protocol_versions_protocol_id_version",
                schema: "app",
                table: "protocol_versions",
                columns: new[] { "protocol_id", "version" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_protocol_versions_tenant_id",
                schema: "app",
                table: "protocol_versions",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ux_protocol_versions_one_approved",
                schema: "app",
                table: "protocol_versions",
                column: "protocol_id",
                unique: true,
                filter: "state = 'Approved'");

            migrationBuilder.CreateIndex(
                name: "ix_protocols_tenant_id",
                schema: "app",
                table: "protocols",
                column: "tenant_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "protocol_amendments",
                schema: "app");

            migrationBuilder.DropTable(
                name: "protocol_reviews",
                schema: "app");

            migrationBuilder.DropTable(
                name: "protocol_revisions",
                schema: "app");

            migrationBuilder.DropTable(
                name: "protocol_signatures",
                schema: "app");

            migrationBuilder.DropTable(
                name: "protocol_versions",
                schema: "app");

            migrationBuilder.DropTable(
                name: "protocols",
                schema: "app");
        }
    }
}
