using ObjectaLabs.Orleans.Hosting;

namespace ObjectaLabs.Orleans.Diagnostics;

[GenerateSerializer, Alias("objectalabs.probe-state")]
public sealed class ReminderProbeState
{
    [Id(0)] public int Ticks { get; set; }
    [Id(1)] public List<ProbeTick> Recent { get; set; } = [];
}

public sealed class ReminderProbeGrain(
    [PersistentState("probe", StorageNames.Postgres)] IPersistentState<ReminderProbeState> state,
    TimeProvider clock) : Grain, IReminderProbeGrain, IRemindable
{
    private const string ReminderName = "probe";
    private const int Kept = 50;

    public async Task StartAsync(TimeSpan period) =>
        await this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task StopAsync()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public ValueTask<ReminderProbeReport> GetReportAsync() =>
        ValueTask.FromResult(new ReminderProbeReport(state.State.Ticks, state.State.Recent.ToList()));

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        // Changed on a copy, kept only once written: a failed write leaves the live state as it was.
        var recent = state.State.Recent.Append(new ProbeTick(clock.GetUtcNow(), RuntimeIdentity)).TakeLast(Kept).ToList();
        await state.CommitAsync(new ReminderProbeState { Ticks = state.State.Ticks + 1, Recent = recent });
    }
}
