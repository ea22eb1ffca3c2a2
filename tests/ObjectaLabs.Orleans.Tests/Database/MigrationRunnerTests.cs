using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using ObjectaLabs.Orleans.Silo.Database;
using ObjectaLabs.Orleans.Tests.Infrastructure;

namespace ObjectaLabs.Orleans.Tests.Database;

public sealed class MigrationRunnerTests
{
    [Fact]
    public async Task Running_twice_applies_each_script_once_and_changes_nothing_the_second_time()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var runner = new MigrationRunner(db.DataSource, NullLogger<MigrationRunner>.Instance);

        var first = await runner.ApplyAsync();
        var second = await runner.ApplyAsync();

        first.Applied.Should().Equal(MigrationRunner.Embedded.Select(m => m.Version));
        second.Applied.Should().BeEmpty();
        second.AlreadyApplied.Should().Equal(first.Applied);
        await using var connection = await db.DataSource.OpenConnectionAsync();
        (await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations")).Should().Be(MigrationRunner.Embedded.Count);
        (await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM OrleansQuery")).Should().BeGreaterThan(10);
    }

    [Fact]
    public async Task Runners_started_together_do_not_race()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var runners = Enumerable.Range(0, 4).Select(_ => new MigrationRunner(db.DataSource, NullLogger<MigrationRunner>.Instance));

        var results = await Task.WhenAll(runners.Select(r => r.ApplyAsync()));

        results.Sum(r => r.Applied.Count).Should().Be(MigrationRunner.Embedded.Count, "each script is applied by exactly one runner");
        await using var connection = await db.DataSource.OpenConnectionAsync();
        (await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations")).Should().Be(MigrationRunner.Embedded.Count);
    }

    [Fact]
    public async Task An_applied_script_whose_text_changed_stops_the_start_up()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var runner = new MigrationRunner(db.DataSource, NullLogger<MigrationRunner>.Instance);
        await runner.ApplyAsync([new Migration("9001", "probe", "CREATE TABLE probe_a (id int)")]);

        var edited = () => runner.ApplyAsync([new Migration("9001", "probe", "CREATE TABLE probe_a (id bigint)")]);

        await edited.Should().ThrowAsync<InvalidOperationException>().WithMessage("*9001_probe*checksum*");
    }

    [Fact]
    public async Task A_failing_script_leaves_nothing_behind_and_is_not_recorded()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: false);
        var runner = new MigrationRunner(db.DataSource, NullLogger<MigrationRunner>.Instance);

        var broken = () => runner.ApplyAsync([new Migration("9002", "broken", "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;")]);

        await broken.Should().ThrowAsync<Npgsql.PostgresException>();
        await using var connection = await db.DataSource.OpenConnectionAsync();
        (await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations WHERE version = '9002'")).Should().Be(0);
        (await connection.ExecuteScalarAsync<bool>("SELECT to_regclass('half_done') IS NOT NULL")).Should().BeFalse();
    }
}
