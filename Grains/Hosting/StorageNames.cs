namespace ObjectaLabs.Orleans.Hosting;

/// <summary>Names the silo registers and the grains refer to; one place, so they cannot drift.</summary>
public static class StorageNames
{
    /// <summary>The ADO.NET grain storage on PostgreSQL.</summary>
    public const string Postgres = "postgres";
}
