using ObjectaLabs.Orleans.Deployment;

namespace ObjectaLabs.Orleans.Usage;

/// <summary>
/// A model grain's usage: its <see cref="UsageLedger"/>, written every <see cref="UsageOptions.FlushInterval"/> while anything
/// is unwritten and once more when the grain is deactivated, and its cool-down breaker, fed with the outcomes of recent
/// requests. When the breaker changes (cooling down, or closed again), the organization's deployments grain is told
/// (one-way), and it pushes the new snapshot to every API process.
/// </summary>
public sealed class UsageWriter
{
    private readonly Grain _grain;
    private readonly IGrainFactory _grains;
    private readonly Guid _organizationId;
    private readonly ModelChoice _model;
    private readonly UsageLedger _ledger;
    private readonly UsageOptions _options;
    private readonly CooldownBreaker _breaker;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private IGrainTimer? _timer;

    public UsageWriter(Grain grain, IGrainFactory grains, Guid organizationId, ModelChoice model, UsageLedger ledger, UsageOptions options, TimeProvider clock, ILogger logger)
    {
        _grain = grain;
        _grains = grains;
        _organizationId = organizationId;
        _model = model;
        _ledger = ledger;
        _options = options;
        _clock = clock;
        _logger = logger;
        _breaker = new CooldownBreaker(options.Breaker(), clock);
    }

    public async Task AddAsync(IReadOnlyList<UsageDelta> deltas)
    {
        await _ledger.AddAsync(deltas);
        _timer ??= _grain.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(_options.FlushInterval, _options.FlushInterval));
        await JudgeAsync(deltas);
    }

    /// <summary>Feeds the breaker the outcomes of requests of the window's hours (late reports of older hours do not trip it).</summary>
    private async Task JudgeAsync(IReadOnlyList<UsageDelta> deltas)
    {
        var recent = UsageKey.HourOf(_clock.GetUtcNow() - _options.CooldownWindow);
        long successes = 0, failures = 0;
        foreach (var (key, totals, _) in deltas)
        {
            if (key.Hour >= recent)
            {
                successes += totals.Successes;
                failures += totals.Failures;
            }
        }
        if (successes + failures == 0)
        {
            return;
        }
        var before = _breaker.Status;
        var after = _breaker.Record((int)Math.Min(successes, int.MaxValue), (int)Math.Min(failures, int.MaxValue));
        if (after == before)
        {
            return;
        }
        if (after.State == BreakerState.CoolingDown)
        {
            _logger.LogWarning("Organization {OrganizationId}: {Model} cools down until {Until} after failures", _organizationId, _model, after.CoolingDownUntil);
        }
        await _grains.GetGrain<IDeploymentsGrain>(_organizationId)
            .CooldownChangedAsync(_model, after.State == BreakerState.CoolingDown ? after.CoolingDownUntil : null);
    }

    /// <summary>The last write, when the grain is deactivated (a graceful stop loses nothing).</summary>
    public Task FlushAsync() => WriteAsync(last: true);

    private Task TickAsync(CancellationToken cancellationToken) => WriteAsync(last: false);

    private async Task WriteAsync(bool last)
    {
        try
        {
            await _ledger.FlushAsync();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            if (last)
            {
                _logger.LogError(e, "Usage of {Grain} not written on deactivation; it is lost", _grain.GrainContext.GrainId);
            }
            else
            {
                _logger.LogWarning(e, "Usage of {Grain} not written; the next write tries again", _grain.GrainContext.GrainId);
            }
        }
    }
}
