using System.Text;

namespace RwePortal.Warehouse.Schema;

/// <summary>
/// Turns the CDM 5.4 specification into PostgreSQL DDL (db/omop/cdm54.sql). The committed file is this
/// generator's output; a test fails when they differ, so the DDL is regenerated, never edited:
/// <c>rwe cdm-ddl &gt; db/omop/cdm54.sql</c>.
/// </summary>
public static class CdmDdlGenerator
{
    // Field names of the specification that are reserved words in PostgreSQL and must be quoted.
    private static readonly HashSet<string> ReservedWords = new(StringComparer.Ordinal)
    {
        "offset", "order", "user", "group", "end", "default", "limit", "table", "column", "from", "to", "check",
    };

    public static string Generate(CdmSpecification specification)
    {
        var sql = new StringBuilder();
        sql.Append("-- OMOP CDM 5.4 for PostgreSQL, generated from db/omop/spec/OMOP_CDMv5.4_Field_Level.csv by\n");
        sql.Append("-- RwePortal.Warehouse.Schema.CdmDdlGenerator. Do not edit: regenerate with `rwe cdm-ddl > db/omop/cdm54.sql`.\n");
        sql.Append("-- ").Append(SqlResources.SchemaPlaceholder).Append(" is replaced by the data source's schema (cdm_<name>).\n");
        sql.Append("-- Types: integer -> integer (person ids -> bigint), float -> numeric, datetime -> timestamp,\n");
        sql.Append("-- varchar(MAX) -> text (docs/decisions/0201-omop-column-types.md). No foreign keys\n");
        sql.Append("-- (docs/decisions/0202-no-foreign-keys-in-the-warehouse.md); secondary indexes are in indexes.sql.\n");

        foreach (var table in specification.Tables)
        {
            sql.Append('\n');
            sql.Append("-- ").Append(table.Name).Append(" (").Append(table.SpecSchema).Append(")\n");
            sql.Append("CREATE TABLE IF NOT EXISTS ").Append(SqlResources.SchemaPlaceholder).Append('.').Append(table.Name).Append(" (\n");
            var primaryKey = table.Fields.Where(f => f.IsPrimaryKey).Select(f => Identifier(f.Name)).ToList();
            for (var i = 0; i < table.Fields.Count; i++)
            {
                var field = table.Fields[i];
                sql.Append("    ").Append(Identifier(field.Name)).Append(' ').Append(field.PostgresType)
                    .Append(field.IsRequired || field.IsPrimaryKey ? " NOT NULL" : " NULL");
                var isLast = i == table.Fields.Count - 1 && primaryKey.Count == 0;
                sql.Append(isLast ? "\n" : ",\n");
            }

            if (primaryKey.Count > 0)
            {
                sql.Append("    CONSTRAINT xpk_").Append(table.Name).Append(" PRIMARY KEY (").Append(string.Join(", ", primaryKey)).Append(")\n");
            }

            sql.Append(");\n");
        }

        return sql.ToString();
    }

    /// <summary>A column name as it appears in SQL (quoted when it is a reserved word).</summary>
    public static string Identifier(string name) => ReservedWords.Contains(name) ? $"\"{name}\"" : name;
}
