namespace ObjectaLabs.Orleans.Hosting;

/// <summary>
/// The one way grains keep state: the next state is built apart from the live one (a copy, or a new immutable record),
/// written, and becomes the live state only once the write succeeded. A refused or failed write leaves the live state
/// as it was, so a refusal changes nothing and a failure is never half-kept in memory.
/// </summary>
public static class GrainStateCommit
{
    public static async Task CommitAsync<TState>(this IPersistentState<TState> state, TState next)
    {
        var previous = state.State;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State = previous;
            throw;
        }
    }
}
