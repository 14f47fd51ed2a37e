using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace RwePortal.Application.Data.Migrations
{
    /// <inheritdoc />
    public partial class TenantDataSourceGrants : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "tenant_data_source_grants",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    data_source_id = table.Column<Guid>(type: "uuid", nullable: false),
                    purposes = table.Column<List<string>>(type: "text[]", nullable: false),
                    granted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    granted_by = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenant_data_source_grants", x => x.id);
                    table.ForeignKey(
                        name: "fk_tenant_data_source_grants_data_sources_data_source_id",
                        column: x => x.data_source_id,
                        principalSchema: "app",
                        principalTable: "data_sources",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_tenant_data_source_grants_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_tenant_data_source_grants_data_source_id",
                schema: "app",
                table: "tenant_data_source_grants",
                column: "data_source_id");

            migrationBuilder.CreateIndex(
                name: "ix_tenant_data_source_grants_tenant_id_data_source_id",
                schema: "app",
                table: "tenant_data_source_grants",
                columns: new[] { "tenant_id", "data_source_id" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "tenant_data_source_grants",
                schema: "app");
        }
    }
}
