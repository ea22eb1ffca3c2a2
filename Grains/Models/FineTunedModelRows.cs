using Dapper;
using Npgsql;

namespace ObjectaLabs.Orleans.Models;

/// <summary>
/// The <c>fine_tuned_models</c> mirror of the model grains, for reporting; the grain's state is the truth and the
/// grain is the only writer (the row first, then the state: see <c>GrainStateCommit</c>).
/// </summary>
public sealed class FineTunedModelRows(NpgsqlDataSource db)
{
    public async Task UpsertAsync(FineTunedModelInfo model)
    {
        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO fine_tuned_models (id, organization_id, fine_tuning_job_id, name, version, description, provider, provider_model_id,
                                           base_model, status, shutdown_at, retired_at, created_at, updated_at)
            VALUES (@Id, @OrganizationId,
                    (SELECT j.id FROM fine_tuning_jobs j WHERE j.organization_id = @OrganizationId AND j.id = @JobId),
                    @Name, @Version, @Description, @Provider, @ProviderModelId, @BaseModel, @status, @shutdownAt, @RetiredAt, @CreatedAt, @UpdatedAt)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, description = excluded.description,
                status = excluded.status, shutdown_at = excluded.shutdown_at, retired_at = excluded.retired_at, updated_at = excluded.updated_at
            WHERE fine_tuned_models.organization_id = excluded.organization_id
            """,
            new
            {
                model.Id,
                model.OrganizationId,
                model.JobId,
                model.Name,
                model.Version,
                model.Description,
                model.Provider,
                model.ProviderModelId,
                model.BaseModel,
                status = model.Status.ToString().ToLowerInvariant(),
                shutdownAt = model.ShutdownDate?.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
                model.RetiredAt,
                model.CreatedAt,
                model.UpdatedAt,
            });
    }

    /// <summary>Moves the organization's default flag to <paramref name="modelId"/> (none when null), in one transaction.</summary>
    public async Task SetDefaultAsync(Guid organizationId, Guid? modelId)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("UPDATE fine_tuned_models SET is_default = false WHERE organization_id = @organizationId AND is_default",
            new { organizationId }, transaction);
        if (modelId is { } id)
        {
            await connection.ExecuteAsync("UPDATE fine_tuned_models SET is_default = true WHERE organization_id = @organizationId AND id = @id",
                new { organizationId, id }, transaction);
        }
        await transaction.CommitAsync();
    }
}
