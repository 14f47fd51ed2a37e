using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace RwePortal.Application.Data.Migrations
{
    /// <inheritdoc />
    public partial class SavedSubgroupsAndConceptSets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "saved_concept_sets",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    owner_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    visibility = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    revision = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_saved_concept_sets", x => x.id);
                    table.ForeignKey(
                        name: "fk_saved_concept_sets_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "saved_subgroups",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    owner_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    visibility = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    revision = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    deleted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    referenced_subgroups = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    referenced_concept_sets = table.Column<List<Guid>>(type: "uuid[]", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_saved_subgroups", x => x.id);
                    table.ForeignKey(
                        name: "fk_saved_subgroups_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "saved_concept_set_revisions",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    concept_set_id = table.Column<Guid>(type: "uuid", nullable: false),
                    revision = table.Column<int>(type: "integer", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    visibility = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    items = table.Column<string>(type: "jsonb", nullable: false),
                    vocabulary_source = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    vocabulary_version = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    author_id = table.Column<Guid>(type: "uuid", nullable: false),
                    saved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_saved_concept_set_revisions", x => x.id);
                    table.ForeignKey(
                        name: "fk_saved_concept_set_revisions_saved_concept_sets_concept_set_",
                        column: x => x.concept_set_id,
                        principalSchema: "app",
                        principalTable: "saved_concept_sets",
                        principalColumn: "id");
                    table.ForeignKey(
                        name: "fk_saved_concept_set_revisions_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "saved_subgroup_revisions",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    subgroup_id = table.Column<Guid>(type: "uuid", nullable: false),
                    revision = table.Column<int>(type: "integer", nullable: false),
                    name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    description = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    visibility = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    definition = table.Column<string>(type: "text", nullable: false),
                    vocabulary_source = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    vocabulary_version = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    author_id = table.Column<Guid>(type: "uuid", nullable: false),
                    saved_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_saved_subgroup_revisions", x => x.id);
                    table.ForeignKey(
                        name: "fk_saved_subgroup_revisions_saved_subgroups_subgroup_id",
                        column: x => x.subgroup_id,
                        principalSchema: "app",
                        principalTable: "saved_subgroups",
                        principalColumn: "id");
                    table.ForeignKey(
                        name: "fk_saved_subgroup_revisions_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_saved_concept_set_revisions_concept_set_id_revision",
                schema: "app",
                table: "saved_concept_set_revisions",
                columns: new[] { "concept_set_id", "revision" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_saved_concept_set_revisions_tenant_id",
                schema: "app",
                table: "saved_concept_set_revisions",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_saved_concept_sets_tenant_id_owner_id",
                schema: "app",
                table: "saved_concept_sets",
                columns: new[] { "tenant_id", "owner_id" });

            migrationBuilder.CreateIndex(
                name: "ix_saved_subgroup_revisions_subgroup_id_revision",
                schema: "app",
                table: "saved_subgroup_revisions",
                columns: new[] { "subgroup_id", "revision" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_saved_subgroup_revisions_tenant_id",
                schema: "app",
                table: "saved_subgroup_revisions",
                column: "tenant_id");

            migrationBuilder.CreateIndex(
                name: "ix_saved_subgroups_tenant_id_owner_id",
                schema: "app",
                table: "saved_subgroups",
                columns: new[] { "tenant_id", "owner_id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "saved_concept_set_revisions",
                schema: "app");

            migrationBuilder.DropTable(
                name: "saved_subgroup_revisions",
                schema: "app");

            migrationBuilder.DropTable(
                name: "saved_concept_sets",
                schema: "app");

            migrationBuilder.DropTable(
                name: "saved_subgroups",
                schema: "app");
        }
    }
}
