namespace EnvelopeKms.Tests.Storage.PostgreSql;

/// <summary>
/// Rotation across processes on one PostgreSQL schema (<see cref="RotationRaceRun"/>, shared with SQLite):
/// RELIABILITY row 45 (concurrent on-demand rotations of one key are serialised: one material per
/// successful rotation, none lost or duplicated, bounded retries, every ciphertext decrypts in every
/// process) and row 47 (a process that used the old material encrypts under, and decrypts with, the
/// material another process rotated to).
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlRotationMultiProcessTests : IDisposable
{
    private readonly PostgreSqlServer _server;
    private readonly PostgreSqlCrashStoreKind _kind;
    private readonly TemporaryStoreDirectory _work = new("pg-rotation-multi");

    public PostgreSqlRotationMultiProcessTests(PostgreSqlServer server)
    {
        _server = server;
        _kind = new PostgreSqlCrashStoreKind(server);
    }

    public void Dispose()
    {
        _kind.DropAll();
        _work.Dispose();
    }

    [Fact]
    public async Task Processes_rotating_one_key_at_the_same_moment_add_one_material_per_successful_rotation_and_decrypt_each_others_ciphertexts()
    {
        _server.Require();
        await RotationRaceRun.RaceAsync(_kind, _work.Parent);
    }

    [Fact]
    public async Task A_process_that_used_the_old_material_encrypts_under_and_decrypts_with_the_material_another_process_rotated_to()
    {
        _server.Require();
        await RotationRaceRun.OtherProcessSeesRotationAsync(_kind, _work.Parent);
    }
}
