using Dapper;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace RwePortal.Application.Data;

/// <summary>
/// Plain SQL (Dapper) on a context's own connection and open transaction, for the few reads EF Core does not model:
/// the definer functions of db/app/rls.sql.
/// </summary>
public static class AppDbContextSql
{
    public static async Task<IReadOnlyList<T>> QueryAsync<T>(this AppDbContext db, string sql, object? parameters, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var rows = await db.Database.GetDbConnection().QueryAsync<T>(new CommandDefinition(
                sql,
                parameters,
                db.Database.CurrentTransaction?.GetDbTransaction(),
                cancellationToken: cancellationToken));
            return rows.AsList();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
