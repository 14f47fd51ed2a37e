using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace RwePortal.Application.Data.Migrations
{
    /// <inheritdoc />
    public partial class TenantSmallCellThreshold : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "small_cell_noise_key",
                schema: "app",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    key = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_small_cell_noise_key", x => x.id);
                    table.CheckConstraint("ck_small_cell_noise_key_length", "octet_length(key) >= 32");
                    table.CheckConstraint("ck_small_cell_noise_key_single_row", "id = 1");
                });

            // 32 bytes from PostgreSQL's strong random source (gen_random_uuid), made once per database and never shown.
            migrationBuilder.Sql(
                """
                INSERT INTO app.small_cell_noise_key (id, key)
                VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));
                """);

            migrationBuilder.CreateTable(
                name: "tenant_settings",
                schema: "app",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    small_cell_threshold = table.Column<int>(type: "integer", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_by = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenant_settings", x => x.tenant_id);
                    table.CheckConstraint("ck_tenant_settings_small_cell_threshold", "small_cell_threshold >= 5");
                    table.ForeignKey(
                        name: "fk_tenant_settings_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalSchema: "app",
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "small_cell_noise_key",
                schema: "app");

            migrationBuilder.DropTable(
                name: "tenant_settings",
                schema: "app");
        }
    }
}
