using Microsoft.Data.Sqlite;

namespace EnvelopeKms.Tests.Storage.Sqlite;

/// <summary>
/// Rotation across processes on one SQLite file (<see cref="RotationRaceRun"/>, shared with PostgreSQL):
/// RELIABILITY row 45 (concurrent on-demand rotations of one key are serialised: one material per
/// successful rotation, none lost or duplicated, bounded retries, every ciphertext decrypts in every
/// process) and row 47 (a process that used the old material encrypts under, and decrypts with, the
/// material another process rotated to).
/// </summary>
public sealed class SqliteRotationMultiProcessTests : IDisposable
{
    private readonly TemporaryStoreDirectory _work = new("sqlite-rotation-multi");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _work.Dispose();
    }

    [Fact]
    public async Task Processes_rotating_one_key_at_the_same_moment_add_one_material_per_successful_rotation_and_decrypt_each_others_ciphertexts()
        => await RotationRaceRun.RaceAsync(CrashStoreKind.Sqlite, _work.Parent);

    [Fact]
    public async Task A_process_that_used_the_old_material_encrypts_under_and_decrypts_with_the_material_another_process_rotated_to()
        => await RotationRaceRun.OtherProcessSeesRotationAsync(CrashStoreKind.Sqlite, _work.Parent);
}
